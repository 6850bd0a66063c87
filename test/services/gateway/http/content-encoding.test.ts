import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bodyEncoding, decodeBody } from '../../../../services/gateway/src/http/content-encoding.ts';
import { GatewayHttpError } from '../../../../services/gateway/src/http/http-errors.ts';
import { gzipBomb } from '../../../helpers/gzip-bomb.ts';

describe('bodyEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['gzip', 'gzip'],
    [' GZip ', 'gzip'],
    ['x-gzip', 'gzip'],
    ['deflate', 'deflate'],
  ])('reads %j as %s', (header, encoding) => {
    expect(bodyEncoding(header)).toBe(encoding);
  });

  it.each([
    ['br', 'br', /Content-Encoding "br" is not supported; use gzip, deflate or identity/],
    ['compress', 'compress', /"compress" is not supported/],
    ['stacked encodings', 'gzip, gzip', /stacks several encodings/],
    ['a 10,000-character value (shown truncated)', 'x'.repeat(10_000), /"x{64}…" is not supported/],
  ])('refuses %s with 415 naming it', (_, header, message) => {
    let error: unknown;
    try {
      bodyEncoding(header);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayHttpError);
    expect((error as GatewayHttpError).statusCode).toBe(415);
    expect((error as GatewayHttpError).code).toBe('unsupported_encoding');
    expect((error as GatewayHttpError).message).toMatch(message);
  });
});

/** Feeds `input` through decodeBody in 64 KiB chunks, as a socket would; resolves what came out. */
async function decode(
  input: Buffer,
  encoding: 'gzip' | 'deflate',
  maxBytes: number,
): Promise<{ out: Buffer; error?: GatewayHttpError; decodedBytes: number; consumedBytes: number }> {
  const raw = new PassThrough({ highWaterMark: 64 * 1024 });
  const decoded = decodeBody(raw, encoding, maxBytes);
  let consumed = 0;
  raw.on('data', (c: Buffer) => (consumed += c.length));
  const chunks: Buffer[] = [];
  let decodedBytes = 0;
  const done = new Promise<GatewayHttpError | undefined>((resolve) => {
    decoded.on('data', (c: Buffer) => {
      chunks.push(c);
      decodedBytes += c.length;
    });
    decoded.on('end', () => resolve(undefined));
    decoded.on('error', (err) => resolve(err as GatewayHttpError));
  });
  // Written as the consumer drains, so the source never runs ahead of the decoder.
  (async () => {
    for (let i = 0; i < input.length; i += 64 * 1024) {
      if (!raw.write(input.subarray(i, i + 64 * 1024))) await new Promise((r) => raw.once('drain', r));
    }
    raw.end();
  })().catch(() => undefined);
  const error = await done;
  // Let the drained remainder flow through.
  await new Promise((r) => setImmediate(r));
  return { out: Buffer.concat(chunks), decodedBytes, consumedBytes: consumed, ...(error ? { error } : {}) };
}

describe('decodeBody', () => {
  const text = Buffer.from(JSON.stringify({ batch: Array(200).fill({ type: 'track', event: 'x' }) }));

  it('inflates gzip and counts the encoded bytes for the Content-Length check', async () => {
    const gz = zlib.gzipSync(text);
    const raw = new PassThrough();
    const decoded = decodeBody(raw, 'gzip', 1 << 20);
    const out: Buffer[] = [];
    decoded.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((r) => decoded.on('end', r));
    raw.end(gz);
    await ended;
    expect(Buffer.concat(out).equals(text)).toBe(true);
    expect(decoded.receivedEncodedLength).toBe(gz.length);
  });

  it('inflates deflate (the zlib format)', async () => {
    const { out, error } = await decode(zlib.deflateSync(text), 'deflate', 1 << 20);
    expect(error).toBeUndefined();
    expect(out.equals(text)).toBe(true);
  });

  it('allows a body that inflates to exactly the limit', async () => {
    const { out, error } = await decode(zlib.gzipSync(text), 'gzip', text.length);
    expect(error).toBeUndefined();
    expect(out.length).toBe(text.length);
  });

  it('refuses one byte more with 413 body_too_large naming the decompressed limit', async () => {
    const { error } = await decode(zlib.gzipSync(text), 'gzip', text.length - 1);
    expect(error?.code).toBe('body_too_large');
    expect(error?.statusCode).toBe(413);
    expect(error?.message).toMatch(/inflates to more than the limit of \d+ bytes/);
  });

  it('stops a 1 MB gzip that inflates to 1 GB within the limit, never inflating it all', async () => {
    const bomb = gzipBomb(1024 ** 3);
    expect(bomb.length, 'about 1 MB compressed').toBeGreaterThan(900_000);
    expect(bomb.length).toBeLessThan(1_200_000);
    const limit = 1024 * 1024;
    const cpuBefore = process.cpuUsage();
    const { error, decodedBytes, consumedBytes } = await decode(bomb, 'gzip', limit);
    const cpu = process.cpuUsage(cpuBefore);
    expect(error?.code).toBe('body_too_large');
    expect(decodedBytes, 'nothing beyond the limit was passed on').toBeLessThanOrEqual(limit);
    // 1 MiB out of a 1000:1 bomb needs ~1 KiB in; zlib reads ahead at most one 64 KiB chunk of input
    // per write, so inflation stopped within the limit plus a chunk, not at 1 GB.
    expect(consumedBytes, 'the rest was drained without inflating it').toBe(bomb.length);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    expect(cpuMs, 'inflating 1 GB takes seconds of CPU; stopping at 1 MiB takes milliseconds').toBeLessThan(
      400,
    );
  });

  it.each([
    ['not gzip at all', Buffer.from('{"batch":[]}'), /not valid gzip data.*incorrect header check/],
    ['truncated', zlib.gzipSync(text).subarray(0, 40), /not valid gzip data.*unexpected end of file/],
  ])('refuses a body that is %s with 400 invalid_encoding', async (_, input, message) => {
    const { error } = await decode(input, 'gzip', 1 << 20);
    expect(error?.code).toBe('invalid_encoding');
    expect(error?.statusCode).toBe(400);
    expect(error?.message).toMatch(message);
  });
});
