/**
 * Property-based fuzzing of the gateway over a real socket, real broker and registry: whatever the body,
 * content type or event shape, the answer is a 2xx/4xx in the one error format, never a 5xx; every
 * rejected event names a known code, a field and a message; and the process keeps serving.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REJECTION_CODES } from '../../../services/gateway/src/validation/errors.ts';
import { KEYS, startTestGateway, type TestGateway } from '../../helpers/gateway-harness.ts';

const KNOWN_CODES = new Set<string>([...REJECTION_CODES, 'malformed_json']);

/** Field names producers really send, plus a few hostile ones, so random events hit real rules. */
const fieldName = fc.constantFrom(
  'type',
  'user_id',
  'anonymous_id',
  'experiment',
  'variation',
  'event',
  'value',
  'properties',
  'timestamp',
  'message_id',
  'sample',
  'decision_id',
  'context',
  '__proto__',
  'constructor',
  'userId',
  '',
);
const fieldValue = fc.oneof(
  fc.constantFrom(
    'exposure',
    'track',
    'alias',
    '$exposure',
    'purchase',
    'a@b.co',
    '2026-11-22T10:00:00Z',
    'NaN',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(
    fc.string({ maxLength: 8 }),
    fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean(), fc.constant([])),
  ),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const randomEvent = fc.dictionary(fieldName, fieldValue, { maxKeys: 8 });

async function send(
  url: string,
  body: string,
  contentType: string,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.acmeWrite}`, 'content-type': contentType },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text.length > 0 ? JSON.parse(text) : null };
}

describe('gateway under hostile input (fast-check, real socket and broker)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ brokers: inject('kafkaBrokers'), registryUrl: inject('registryUrl') });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('answers arbitrary bodies and content types with 200 or a 4xx in the error format, never 5xx', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ batch: v })),
      fc.array(fc.json({ maxDepth: 2 }), { maxLength: 5 }).map((lines) => lines.join('\n')),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/x-ndjson',
      'text/plain',
      'application/json; charset=utf-8',
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, async (b, ct) => {
        const { status, json } = await send(gw.url, b, ct);
        expect(status, `status for ${ct} ${b.slice(0, 80)}`).toBeLessThan(500);
        if (status === 200) {
          expect(json).toHaveProperty('accepted');
        } else {
          const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
          expect(typeof error?.code, 'error code').toBe('string');
          expect(typeof error?.message, 'error message').toBe('string');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('judges every event of a random batch on its own: accepted + rejected + dropped = batch, each rejection names a rule', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(randomEvent, { minLength: 1, maxLength: 20 }), async (batch) => {
        const { status, json } = await send(gw.url, JSON.stringify({ batch }), 'application/json');
        expect(status).toBe(200);
        const body = json as {
          accepted: number;
          dropped?: number;
          rejected: Array<{ index: number; code: string; field: string; message: string }>;
        };
        expect(
          body.accepted + body.rejected.length + (body.dropped ?? 0),
          'every event has one verdict',
        ).toBe(batch.length);
        for (const r of body.rejected) {
          expect(KNOWN_CODES.has(r.code), `known code ${r.code}`).toBe(true);
          expect(typeof r.field).toBe('string');
          expect(r.message.length, 'a message').toBeGreaterThan(0);
          expect(r.index).toBeGreaterThanOrEqual(0);
          expect(r.index).toBeLessThan(batch.length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('still serves a good event after the fuzzing', async () => {
    const good = { type: 'track', user_id: 'u-after-fuzz', event: 'purchase', value: 1 };
    const { status, json } = await send(gw.url, JSON.stringify({ batch: [good] }), 'application/json');
    expect(status).toBe(200);
    expect((json as { accepted: number }).accepted).toBe(1);
  });
});
