import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createFetchTransport, type FetchLike, type FetchResponse } from '../../sdk/src/fetch-transport.ts';

type Init = Parameters<FetchLike>[1];

function recordingFetch(answer: (init: Init) => Promise<FetchResponse>): { fetch: FetchLike; calls: Init[] } {
  const calls: Init[] = [];
  return {
    calls,
    fetch: (_url, init) => {
      calls.push(init);
      return answer(init);
    },
  };
}

const response = (status: number, body: string, headers: Record<string, string> = {}): FetchResponse => ({
  status,
  headers: { get: (name) => headers[name.toLowerCase()] ?? null },
  json: async () => JSON.parse(body) as unknown,
  text: async () => body,
});

const options = {
  url: 'http://gw/v1/batch',
  key: 'lsw_k',
  gzip: true,
  gzipMinBytes: 100,
  requestTimeoutMs: 1_000,
  keepaliveMaxBytes: 0,
};
const body = (n: number) =>
  JSON.stringify({
    batch: Array.from({ length: n }, (_, i) => ({ type: 'track', event: 'e', user_id: `u${i}` })),
  });

describe('createFetchTransport', () => {
  it('posts JSON with the key as a bearer token', async () => {
    const { fetch, calls } = recordingFetch(async () => response(200, '{"accepted":1,"rejected":[]}'));
    const outcome = await createFetchTransport({ ...options, fetch })(body(1));
    expect(calls[0]?.headers).toEqual({ authorization: 'Bearer lsw_k', 'content-type': 'application/json' });
    expect(calls[0]?.body).toBe(body(1));
    expect(outcome).toMatchObject({ kind: 'response', status: 200, result: { accepted: 1 } });
  });

  it('gzips bodies from gzipMinBytes on, and the gzip is the JSON', async () => {
    const { fetch, calls } = recordingFetch(async () => response(200, '{"accepted":20,"rejected":[]}'));
    await createFetchTransport({ ...options, fetch })(body(20));
    expect(calls[0]?.headers['content-encoding']).toBe('gzip');
    const sent = calls[0]?.body as Uint8Array;
    expect(sent.byteLength, 'smaller than the JSON').toBeLessThan(body(20).length);
    expect(gunzipSync(sent).toString('utf8')).toBe(body(20));
  });

  it('sends plain JSON when gzip is off', async () => {
    const { fetch, calls } = recordingFetch(async () => response(200, '{}'));
    await createFetchTransport({ ...options, gzip: false, fetch })(body(20));
    expect(calls[0]?.headers['content-encoding']).toBeUndefined();
  });

  it('hands back the status, Retry-After and the refusal text', async () => {
    const { fetch } = recordingFetch(async () =>
      response(503, '{"error":{"code":"kafka_unavailable"}}', { 'retry-after': '3' }),
    );
    expect(await createFetchTransport({ ...options, fetch })(body(1))).toEqual({
      kind: 'response',
      status: 503,
      retryAfter: '3',
      message: '{"error":{"code":"kafka_unavailable"}}',
    });
  });

  it('turns a connection failure into a network outcome instead of throwing', async () => {
    const { fetch } = recordingFetch(async () => {
      throw new TypeError('fetch failed');
    });
    expect(await createFetchTransport({ ...options, fetch })(body(1))).toMatchObject({ kind: 'network' });
  });

  it('aborts a request that takes longer than requestTimeoutMs: a network outcome', async () => {
    const { fetch } = recordingFetch(
      (init) =>
        new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    const started = Date.now();
    const outcome = await createFetchTransport({ ...options, requestTimeoutMs: 50, fetch })(body(1));
    expect(outcome.kind).toBe('network');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('aborts when the caller aborts (close running out of time)', async () => {
    const { fetch } = recordingFetch(
      (init) =>
        new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    const controller = new AbortController();
    const pending = createFetchTransport({ ...options, fetch })(body(1), controller.signal);
    controller.abort();
    expect((await pending).kind).toBe('network');
  });

  it('counts a 200 whose body is cut off as delivered (the status decides)', async () => {
    const { fetch } = recordingFetch(async () => ({
      ...response(200, ''),
      json: async () => {
        throw new Error('terminated');
      },
    }));
    expect(await createFetchTransport({ ...options, fetch })(body(1))).toEqual({
      kind: 'response',
      status: 200,
      retryAfter: null,
    });
  });

  it('marks small requests keepalive in pages, so they outlive the page', async () => {
    const { fetch, calls } = recordingFetch(async () => response(200, '{}'));
    const send = createFetchTransport({ ...options, keepaliveMaxBytes: 60_000, fetch });
    await send(body(1));
    expect(calls[0]?.keepalive).toBe(true);
  });
});
