/**
 * The signature of a webhook delivery: header `Liftstream-Signature: t=<unix seconds>,v1=<hex>` where hex is
 * HMAC-SHA256, keyed with the project's secret, of `<t>.<raw body>`. The timestamp is signed with the body
 * so a captured delivery cannot be replayed later: a receiver refuses a `t` more than SIGNATURE_TOLERANCE_S
 * from its clock. Each attempt is signed afresh, so a retry an hour later still verifies. (The scheme of
 * Stripe's and Svix's webhooks, so receivers' existing verification code applies.)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'liftstream-signature';
/** How far a signature's timestamp may be from the receiver's clock, s. */
export const SIGNATURE_TOLERANCE_S = 300;

/** The HMAC-SHA256 hex digest of `<timestampS>.<body>` with `secret`. */
export function signatureOf(body: string, secret: string, timestampS: number): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex');
}

/** The `Liftstream-Signature` header value of `body` signed at `timestampS`. */
export function signatureHeader(body: string, secret: string, timestampS: number): string {
  return `t=${timestampS},v1=${signatureOf(body, secret, timestampS)}`;
}

export type SignatureCheck = { ok: true; timestampS: number } | { ok: false; reason: string };

/**
 * What a receiver does with a delivery (the README's recipe, in code; the tests' receiver uses it): parse
 * the header, recompute the HMAC over the raw body bytes as received, compare in constant time, refuse a
 * stale or future timestamp. Several `v1=` entries are accepted (any may match), so a secret can be rotated.
 */
export function verifySignature(
  header: string | undefined,
  body: string,
  secret: string,
  nowS: number,
  toleranceS = SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  if (header === undefined) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  let timestampS: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestampS = Number(value);
    if (name === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestampS === undefined) return { ok: false, reason: 'no t=<unix seconds> in the header' };
  if (signatures.length === 0) return { ok: false, reason: 'no v1=<hex HMAC-SHA256> in the header' };
  if (Math.abs(nowS - timestampS) > toleranceS) {
    return { ok: false, reason: `timestamp ${timestampS} is more than ${toleranceS} s from now (${nowS})` };
  }
  const expected = Buffer.from(signatureOf(body, secret, timestampS), 'hex');
  const matches = signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
  return matches ? { ok: true, timestampS } : { ok: false, reason: 'no signature matches the body' };
}
