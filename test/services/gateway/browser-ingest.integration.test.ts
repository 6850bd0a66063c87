/**
 * Events from web pages, end to end over a real socket into the shared broker: CORS preflights,
 * client keys in the header, the URL or the body, beacons (text/plain), gzip and deflate bodies as
 * CompressionStream sends them, refused origins and keys, and a gzip bomb, each read back from the
 * ingest topic (or checked absent from it).
 */
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ACME_ORIGINS,
  KEYS,
  cleanUp,
  keyStartsWith,
  readTopic,
  startTestGateway,
} from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';
import { gzipBomb } from '../../helpers/gzip-bomb.ts';
import { rawRequest } from '../../helpers/raw-http.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const ORIGIN = ACME_ORIGINS[1]; // http://127.0.0.1:5173, a dev server's page

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ brokers, registryUrl });
});

afterAll(async () => {
  await gw?.close();
  if (gw) await cleanUp(brokers, registryUrl, gw.prefix);
});

function run(): string {
  return `b${randomUUID().slice(0, 8)}`;
}

const track = (userId: string) => ({ type: 'track', user_id: userId, event: 'page_view', value: 1 });
const batchOf = (r: string, n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ batch: Array.from({ length: n }, (_, i) => track(`${r}-${i}`)), ...extra });

const post = (path: string, headers: Record<string, string>, body: string | Buffer) =>
  rawRequest(`${gw.url}${path}`, { headers, body });

async function onTopic(r: string, count: number, settleMs = 0): Promise<number> {
  const messages = await readTopic(brokers, gw.gateway.topics.ingest, {
    count,
    match: keyStartsWith(`acme/${r}`),
    timeoutMs: count === 0 ? 3_000 : 30_000,
    settleMs,
  });
  return messages.length;
}

describe('from a web page', () => {
  it('answers the CORS preflight of an allowed origin without a key', async () => {
    const res = await rawRequest(`${gw.url}/v1/batch`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,content-encoding',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, content-encoding',
      'access-control-max-age': '7200',
    });
  });

  it('takes a gzip batch with a client key in the header, answering with CORS headers', async () => {
    const r = run();
    const res = await post(
      '/v1/batch',
      {
        authorization: `Bearer ${KEYS.acmeClient}`,
        origin: ORIGIN,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      zlib.gzipSync(batchOf(r, 20)),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json?.['accepted']).toBe(20);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(res.headers['access-control-expose-headers'])).toContain('retry-after');
    expect(await onTopic(r, 20)).toBe(20);
  });

  it('takes a beacon: text/plain JSON with the client key in the body, no other header', async () => {
    const r = run();
    const res = await post(
      '/v1/batch',
      { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8' },
      batchOf(r, 3, { api_key: KEYS.acmeClient }),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json?.['accepted']).toBe(3);
    expect(await onTopic(r, 3)).toBe(3);
  });

  it('takes a client key in the URL with a deflate ndjson body', async () => {
    const r = run();
    const ndjson = [0, 1, 2].map((i) => JSON.stringify(track(`${r}-${i}`))).join('\n');
    const res = await post(
      `/v1/batch?api_key=${KEYS.acmeClient}`,
      { origin: ORIGIN, 'content-type': 'application/x-ndjson', 'content-encoding': 'deflate' },
      zlib.deflateSync(ndjson),
    );
    expect(res.status, res.text).toBe(200);
    expect(await onTopic(r, 3)).toBe(3);
  });

  it('refuses a client key from an origin its project does not list, writing nothing', async () => {
    const r = run();
    const res = await post(
      '/v1/batch',
      {
        authorization: `Bearer ${KEYS.acmeClient}`,
        origin: 'https://evil.example',
        'content-type': 'application/json',
      },
      batchOf(r, 2),
    );
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect((res.json?.['error'] as { message: string }).message).toContain('"allowedOrigins"');
    // shop's client key from acme's origin: listed (so CORS headers) but not for shop
    const other = await post(
      '/v1/batch',
      { authorization: `Bearer ${KEYS.shopClient}`, origin: ORIGIN, 'content-type': 'application/json' },
      batchOf(r, 2),
    );
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin'], 'the page can read why').toBe(ORIGIN);
    expect(await onTopic(r, 0, 1_000)).toBe(0);
  });

  it('refuses a write key in the body or URL with 403, writing nothing', async () => {
    const r = run();
    const inBody = await post(
      '/v1/batch',
      { 'content-type': 'text/plain' },
      batchOf(r, 1, { api_key: KEYS.acmeWrite }),
    );
    const inUrl = await post(
      `/v1/batch?api_key=${KEYS.acmeWrite}`,
      { 'content-type': 'application/json' },
      batchOf(r, 1),
    );
    for (const res of [inBody, inUrl]) {
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/write keys are secrets/);
    }
    expect(await onTopic(r, 0, 1_000)).toBe(0);
  });

  it('refuses an unknown Content-Encoding with 415', async () => {
    const res = await post(
      '/v1/batch',
      {
        authorization: `Bearer ${KEYS.acmeClient}`,
        'content-type': 'application/json',
        'content-encoding': 'br',
      },
      'x',
    );
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ error: { code: 'unsupported_encoding' } });
  });
});

describe('a gzip bomb', () => {
  it('gets 413 once 1 MiB is inflated, the client receives it, and the gateway serves on', async () => {
    const bomb = gzipBomb(1024 ** 3); // 1 MB that inflates to 1 GiB
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const res = await post(
      '/v1/batch',
      {
        authorization: `Bearer ${KEYS.acmeWrite}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      bomb,
    );
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    expect(res.error, 'an answer, not a reset connection').toBeUndefined();
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: { code: 'body_too_large' } });
    // The gateway runs in this process: inflating 1 GiB would cost ~2 s of its CPU.
    expect((cpu.user + cpu.system) / 1000, 'CPU spent, ms').toBeLessThan(1_000);
    expect(ms, 'answer time, ms').toBeLessThan(2_000);

    const r = run();
    const after = await post(
      '/v1/batch',
      { authorization: `Bearer ${KEYS.acmeWrite}`, 'content-type': 'application/json' },
      batchOf(r, 1),
    );
    expect(after.status).toBe(200);
  });
});
