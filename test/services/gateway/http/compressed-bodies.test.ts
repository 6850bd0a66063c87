/** Compressed and beacon bodies through the real app with a fake producer (app.inject). */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../helpers/gateway-app.ts';
import { APP_KEYS, buildTestApp, trackEvent } from '../../../helpers/gateway-app.ts';
import { gzipBomb } from '../../../helpers/gzip-bomb.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.app.close();
});

const auth = { authorization: `Bearer ${APP_KEYS.shopWrite}` };
const json = JSON.stringify({ batch: [trackEvent('u-1'), trackEvent('u-2')] });

async function send(headers: Record<string, string>, payload: string | Buffer, url = '/v1/batch') {
  const res = await t.app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}
const message = (body: Record<string, unknown>) => (body['error'] as { message: string }).message;

describe('compressed bodies', () => {
  it.each([
    ['gzip', zlib.gzipSync(json)],
    ['x-gzip', zlib.gzipSync(json)],
    ['deflate', zlib.deflateSync(json)],
    ['identity', Buffer.from(json)],
  ])('accepts a %s JSON batch', async (encoding, payload) => {
    const res = await send({ 'content-type': 'application/json', 'content-encoding': encoding }, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body['accepted']).toBe(2);
  });

  it('accepts a gzip ndjson batch', async () => {
    const ndjson = `${JSON.stringify(trackEvent('a'))}\n${JSON.stringify(trackEvent('b'))}\n`;
    const res = await send(
      { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      zlib.gzipSync(ndjson),
    );
    expect(res.body['accepted']).toBe(2);
  });

  it('accepts a gzip single event', async () => {
    const res = await send(
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      zlib.gzipSync(JSON.stringify(trackEvent())),
      '/v1/track',
    );
    expect(res.body['accepted']).toBe(1);
  });

  it('refuses an unknown encoding with 415 before reading the body', async () => {
    const res = await send({ 'content-type': 'application/json', 'content-encoding': 'br' }, json);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: { code: 'unsupported_encoding' } });
  });

  it('refuses a corrupt gzip body with 400 invalid_encoding', async () => {
    const res = await send({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, json);
    expect(res.status).toBe(400);
    expect(message(res.body)).toMatch(/not valid gzip data/);
  });

  it('refuses a 1 MB gzip body inflating to 1 GB with 413, the limit applying to the inflated size', async () => {
    const started = performance.now();
    const res = await send(
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipBomb(1024 ** 3),
    );
    expect(res.status).toBe(413);
    expect(message(res.body)).toMatch(/inflates to more than the limit of 1048576 bytes/);
    expect(performance.now() - started, 'stopped long before 1 GB was inflated (~2 s)').toBeLessThan(1_000);
  });

  it('applies the limit to a compressed body that inflates just past it', async () => {
    const big = JSON.stringify({ batch: [{ ...trackEvent(), pad: 'x'.repeat(1024 * 1024) }] });
    const res = await send(
      { 'content-type': 'application/json', 'content-encoding': 'deflate' },
      zlib.deflateSync(big),
    );
    expect(res.status).toBe(413);
  });
});

describe('beacon bodies', () => {
  it('parses text/plain as JSON', async () => {
    const res = await send({ 'content-type': 'text/plain;charset=UTF-8' }, json);
    expect(res.status).toBe(200);
    expect(res.body['accepted']).toBe(2);
  });

  it('refuses text/plain that is not JSON with 400 naming the problem', async () => {
    const res = await send({ 'content-type': 'text/plain' }, 'hello');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_json' } });
  });

  it('still refuses other content types with 415 naming the accepted ones', async () => {
    const res = await send({ 'content-type': 'application/xml' }, '<batch/>');
    expect(res.status).toBe(415);
    expect(message(res.body)).toMatch(/application\/json, application\/x-ndjson or text\/plain/);
  });
});
