import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../../../services/stats/src/alerts/webhook-signature.ts';

const body = '{"id":"a1","state":"raised"}';
const secret = 'whsec-test';
const T = 1_900_000_000;

describe('webhook signature', () => {
  it('is HMAC-SHA256 of "<t>.<body>" with the secret, as the README tells receivers to compute it', () => {
    const expected = createHmac('sha256', secret).update(`${T}.${body}`).digest('hex');
    expect(signatureHeader(body, secret, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies what it signs, within the tolerance', () => {
    const header = signatureHeader(body, secret, T);
    expect(verifySignature(header, body, secret, T)).toEqual({ ok: true, timestampS: T });
    expect(verifySignature(header, body, secret, T + 300).ok, '5 minutes later').toBe(true);
  });

  it.each([
    [
      'another body',
      signatureHeader(body, secret, T),
      body.replace('raised', 'cleared'),
      secret,
      T,
      /matches/,
    ],
    ['another secret', signatureHeader(body, 'other', T), body, secret, T, /matches/],
    ['a replay 301 s later', signatureHeader(body, secret, T), body, secret, T + 301, /more than 300 s/],
    [
      'a timestamp from the future',
      signatureHeader(body, secret, T + 400),
      body,
      secret,
      T,
      /more than 300 s/,
    ],
    [
      'a timestamp changed after signing',
      signatureHeader(body, secret, T).replace(`t=${T}`, `t=${T + 1}`),
      body,
      secret,
      T,
      /matches/,
    ],
    ['no header', undefined, body, secret, T, /no liftstream-signature/],
    ['no timestamp', 'v1=' + 'a'.repeat(64), body, secret, T, /no t=/],
    ['no signature', `t=${T}`, body, secret, T, /no v1=/],
  ])('refuses %s', (_what, header, received, key, now, reason) => {
    const check = verifySignature(header, received, key, now);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const old = signatureHeader(body, 'old-secret', T).split(',')[1] as string;
    const header = `${signatureHeader(body, secret, T)},${old}`;
    expect(verifySignature(header, body, 'old-secret', T).ok).toBe(true);
    expect(verifySignature(header, body, secret, T).ok).toBe(true);
  });
});
