/**
 * Requests for load, slow-client and memory tests of the gateway, and a cheap way to send them.
 * Seeded bad requests: malformed JSON, unknown, missing and read keys, wrong content types, bodies
 * over the limit, too many events, batches of only invalid events, ndjson garbage, unknown routes,
 * random bytes, deep nesting, prototype-pollution keys and hostile headers. None of them may be
 * accepted; each names the statuses it may get.
 */
import http from 'node:http';
import { KEYS } from './gateway-harness.ts';

export const HOSTILE_KINDS = [
  'malformed_json',
  'unknown_key',
  'no_key',
  'read_key',
  'wrong_content_type',
  'body_too_large',
  'too_many_events',
  'invalid_events',
  'ndjson_garbage',
  'unknown_route',
  'random_bytes',
  'deep_nesting',
  'prototype_keys',
  'hostile_headers',
] as const;

export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** A POST to the gateway. */
export interface GatewayPost {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

export interface HostileRequest extends GatewayPost {
  readonly kind: HostileKind;
  /** Statuses the gateway may answer; a 200 must accept nothing. */
  readonly expected: readonly number[];
}

/** A well-behaved POST /v1/batch of `events` with project acme's write key. */
export function goodBatch(events: readonly unknown[]): GatewayPost {
  return {
    path: '/v1/batch',
    headers: { authorization: `Bearer ${KEYS.acmeWrite}`, 'content-type': 'application/json' },
    body: JSON.stringify({ batch: events }),
  };
}

export interface GatewayLimits {
  maxBodyBytes: number;
  maxBatchEvents: number;
}

/** One random bad request of a random kind; `rand` is a seeded source of [0, 1). */
export function hostileRequest(rand: () => number, limits: GatewayLimits): HostileRequest {
  const kind = HOSTILE_KINDS[Math.floor(rand() * HOSTILE_KINDS.length)] as HostileKind;
  return build(kind, rand, limits);
}

function build(kind: HostileKind, rand: () => number, limits: GatewayLimits): HostileRequest {
  const word = (): string => Math.floor(rand() * 2 ** 48).toString(36);
  const json = { 'content-type': 'application/json' };
  const auth = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const ok = { ...json, ...auth(KEYS.acmeWrite) };
  const invalidBatch = (): string =>
    JSON.stringify({ batch: Array.from({ length: 1 + Math.floor(rand() * 20) }, () => invalidEvent(rand)) });
  const request = (
    body: string | Uint8Array,
    expected: number[],
    headers: Record<string, string> = ok,
    path = '/v1/batch',
  ): HostileRequest => ({ kind, path, headers, body, expected });

  switch (kind) {
    case 'malformed_json': {
      const text = invalidBatch();
      return request(text.slice(0, 1 + Math.floor(rand() * (text.length - 2))), [400]);
    }
    case 'unknown_key':
      return request(invalidBatch(), [401], { ...json, ...auth(`lsw_${word()}${word()}`) });
    case 'no_key':
      return request(invalidBatch(), [401], json);
    case 'read_key':
      return request(invalidBatch(), [403], { ...json, ...auth(KEYS.acmeRead) });
    case 'wrong_content_type': {
      // text/plain is accepted (beacons send JSON as text/plain), so it is not among them.
      const types = ['text/html', 'application/xml', 'multipart/form-data; boundary=x', 'image/png'];
      const type = types[Math.floor(rand() * types.length)] as string;
      return request(invalidBatch(), [415], { 'content-type': type, ...auth(KEYS.acmeWrite) });
    }
    case 'body_too_large': {
      const pad = 'x'.repeat(limits.maxBodyBytes + 1 + Math.floor(rand() * 4096));
      return request(JSON.stringify({ batch: [{ type: 'track', event: 'purchase', pad }] }), [413]);
    }
    case 'too_many_events': {
      const event = { type: 'track', event: 'purchase', user_id: word() };
      return request(JSON.stringify({ batch: Array(limits.maxBatchEvents + 1).fill(event) }), [413]);
    }
    case 'invalid_events':
      return request(invalidBatch(), [200]);
    case 'ndjson_garbage': {
      const lines = Array.from({ length: 1 + Math.floor(rand() * 10) }, () =>
        rand() < 0.5 ? `{"type":"track","user_id":"${word()}",` : JSON.stringify(invalidEvent(rand)),
      );
      return request(lines.join('\n'), [200], { ...ok, 'content-type': 'application/x-ndjson' });
    }
    case 'unknown_route':
      return request(invalidBatch(), [404], ok, `/v1/${word()}/${encodeURIComponent(word())}`);
    case 'random_bytes':
      return request(
        Uint8Array.from({ length: 1 + Math.floor(rand() * 2048) }, () => Math.floor(rand() * 256)),
        [400],
      );
    case 'deep_nesting': {
      const depth = 1_000 + Math.floor(rand() * 4_000);
      return request(`{"batch":${'['.repeat(depth)}${']'.repeat(depth)}}`, [200]);
    }
    case 'prototype_keys':
      return request(
        `{"batch":[{"__proto__":{"type":"track","user_id":"${word()}","event":"purchase"}},` +
          `{"constructor":{"prototype":{"polluted":"${word()}"}}}],"__proto__":{"batch":[]}}`,
        [200, 400],
      );
    case 'hostile_headers':
      return request(invalidBatch(), [200], {
        ...ok,
        'x-request-id': rand() < 0.5 ? word() : `../${word()}?<script>`,
        'x-project': 'shop',
        'x-filler': 'h'.repeat(Math.floor(rand() * 8_000)),
      });
  }
}

/** An event that fails validation whatever the random draws (each template breaks a rule). */
function invalidEvent(rand: () => number): Record<string, unknown> {
  const id = Math.floor(rand() * 2 ** 48).toString(36);
  const templates: (() => Record<string, unknown>)[] = [
    () => ({ type: 'track', event: 'purchase', properties: { id } }), // missing_identity
    () => ({ type: 'track', user_id: id, event: `Bad Name ${id}` }), // invalid_event_name
    () => ({ type: 'exposure', user_id: id, variation: id }), // missing_field
    () => ({ type: 'identify', user_id: id }), // invalid_kind
    () => ({ type: 'track', user_id: id, event: 'purchase', timestamp: `yesterday-${id}` }),
    () => ({ type: 'track', user_id: `${id}@example.com`, event: 'purchase' }), // pii_email
    () => ({ type: 'track', user_id: id, event: 'purchase', properties: { nested: { id } } }),
    () => ({ type: 'alias', anonymous_id: id, user_id: id }), // invalid_value
    () => ({ type: 'track', user_id: 'u'.repeat(257 + Math.floor(rand() * 500)), event: 'x' }),
  ];
  return (templates[Math.floor(rand() * templates.length)] as () => Record<string, unknown>)();
}

/**
 * Sends one POST over node's http client (several times cheaper per request than fetch, which
 * matters when the load generator shares two cores with the gateway); `agent` keeps connections
 * alive, `false` opens one per request. Resolves the status (0 when the gateway closed the connection
 * instead of answering), the accepted count of a 200, and the time to the full answer.
 */
export function sendPost(
  url: string,
  post: GatewayPost,
  agent: http.Agent | false,
): Promise<{ status: number; accepted: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const closed = (): void => resolve({ status: 0, accepted: 0, ms: performance.now() - start });
    const body = typeof post.body === 'string' ? Buffer.from(post.body) : post.body;
    const outgoing = http.request(
      `${url}${post.path}`,
      { method: 'POST', agent, headers: { ...post.headers, 'content-length': String(body.byteLength) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', closed);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let accepted = 0;
          if (status === 200) {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accepted?: unknown };
            accepted = typeof parsed.accepted === 'number' ? parsed.accepted : NaN;
          }
          resolve({ status, accepted, ms: performance.now() - start });
        });
      },
    );
    outgoing.on('error', closed);
    outgoing.end(body);
  });
}

/** Whether `req` got an answer it may get: an expected status, and nothing accepted. */
export function answeredAsExpected(
  req: HostileRequest,
  answer: { status: number; accepted: number },
): boolean {
  return req.expected.includes(answer.status) && answer.accepted === 0;
}
