/**
 * The gateway end to end over a real socket, into the shared broker and registry: partial batches,
 * every rejection code, ndjson, retries, auth, request errors, and the records read back from Kafka
 * with a plain Confluent-style deserializer.
 */
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { MALFORMED_JSON } from '../../../services/gateway/src/ingest/prepare-ingest.ts';
import { REJECTION_CODES } from '../../../services/gateway/src/validation/index.ts';
import { confluentDecode } from '../../helpers/confluent-deserializer.ts';
import { expectErrorBody } from '../../helpers/error-format.ts';
import {
  KEYS,
  cleanUp,
  keyStartsWith,
  post,
  readTopic,
  startTestGateway,
} from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';
import { GOOGLEBOT_UA, CHROME_UA } from '../../helpers/gateway-validation.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const DAY_MS = 86_400_000;
const MAX_BATCH_EVENTS = 50;
const MAX_BODY_BYTES = 200_000;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    brokers,
    registryUrl,
    env: { MAX_BATCH_EVENTS: String(MAX_BATCH_EVENTS), MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
  });
});

afterAll(async () => {
  await gw?.close();
  if (gw) await cleanUp(brokers, registryUrl, gw.prefix);
});

/** A fresh id prefix per test, so each test finds its own records on the shared topic. */
function run(): string {
  return `r${randomUUID().slice(0, 8)}`;
}

type Decoded = Record<string, unknown> & { body: Record<string, Record<string, unknown>> };

async function decode(m: KafkaMessage): Promise<{ key: string; schemaId: number; value: Decoded }> {
  const { id, value } = await confluentDecode(registryUrl, m.value as Buffer);
  return { key: (m.key as Buffer).toString('utf8'), schemaId: id, value: value as Decoded };
}

describe('POST /v1/batch into Kafka', () => {
  it('writes the good events of a partial batch and reports each bad one by index', async () => {
    const id = run();
    const isoTime = new Date(Date.now() - 3_600_000).toISOString();
    const batch = [
      {
        type: 'track',
        event: 'purchase',
        user_id: `${id}-u1`,
        anonymous_id: `${id}-a1`,
        timestamp: isoTime,
        value: 49.99,
        properties: { plan: 'pro', seats: 3, trial: false },
        decision_id: 'd-1',
        sample: 0.5,
        message_id: `${id}-m1`,
        context: { user_agent: CHROME_UA, locale: 'de-DE' },
      },
      { type: 'track', event: 'purchase' },
      { type: 'exposure', experiment: 'checkout_color', variation: 'green', anonymous_id: `${id}-a2` },
      { type: 'alias', anonymous_id: `${id}-a3`, user_id: `${id}-u3`, message_id: `${id}-m3` },
      { type: 'track', event: 'page_view', user_id: `${id}-bot`, context: { user_agent: GOOGLEBOT_UA } },
    ];
    const before = Date.now();
    const res = await post(gw.url, '/v1/batch', { batch });
    const after = Date.now();

    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json['accepted'], 'three good events').toBe(3);
    expect(res.json['dropped'], 'the bot is dropped and counted').toBe(1);
    expect(res.json['rejected']).toEqual([
      { index: 1, code: 'missing_identity', field: 'user_id', message: expect.any(String) },
    ]);

    const messages = await readTopic(brokers, gw.gateway.topics.ingest, {
      count: 3,
      match: keyStartsWith(`acme/${id}`),
      settleMs: 500,
    });
    expect(messages.length, 'exactly the accepted events are on the topic').toBe(3);
    const records = await Promise.all(messages.map(decode));
    const byKey = new Map(records.map((r) => [r.key, r]));
    expect([...byKey.keys()].sort(), 'keys: user_id, else anonymous_id; alias by anonymous_id').toEqual(
      [`acme/${id}-a2`, `acme/${id}-a3`, `acme/${id}-u1`].sort(),
    );
    const schemaId = gw.gateway.schema.current()?.id;
    for (const r of records) {
      expect(r.schemaId, 'Confluent header carries the registered id').toBe(schemaId);
      expect(r.value['project']).toBe('acme');
      expect(r.value['received_at'] as number).toBeGreaterThanOrEqual(before);
      expect(r.value['received_at'] as number).toBeLessThanOrEqual(after);
      expect(r.value['event_id'], 'a UUID per accepted event').toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(new Set(records.map((r) => r.value['event_id'])).size, 'event ids are unique').toBe(3);

    const trackRecord = byKey.get(`acme/${id}-u1`)?.value as Decoded;
    expect(trackRecord).toEqual({
      event_id: expect.any(String),
      project: 'acme',
      received_at: expect.any(Number),
      timestamp: Date.parse(isoTime),
      message_id: `${id}-m1`,
      user_id: `${id}-u1`,
      anonymous_id: `${id}-a1`,
      body: {
        'io.liftstream.ingest.Track': {
          event: 'purchase',
          value: 49.99,
          properties: { plan: 'pro', seats: 3, trial: false },
          decision_id: 'd-1',
          sample: 0.5,
        },
      },
      context: { user_agent: CHROME_UA, locale: 'de-DE' },
    });

    const exposureRecord = byKey.get(`acme/${id}-a2`)?.value as Decoded;
    expect(exposureRecord['timestamp'], 'no timestamp sent: the receive time').toBe(
      exposureRecord['received_at'],
    );
    expect(exposureRecord['user_id']).toBeNull();
    expect(exposureRecord.body).toEqual({
      'io.liftstream.ingest.Exposure': {
        experiment: 'checkout_color',
        variation: 'green',
        decision_id: null,
        properties: {},
      },
    });

    const aliasRecord = byKey.get(`acme/${id}-a3`)?.value as Decoded;
    expect([aliasRecord['anonymous_id'], aliasRecord['user_id'], aliasRecord['message_id']]).toEqual([
      `${id}-a3`,
      `${id}-u3`,
      `${id}-m3`,
    ]);
    expect(aliasRecord.body).toEqual({ 'io.liftstream.ingest.Alias': {} });
  });

  it('reports every rejection code of the catalogue in real responses, with 200 when all are rejected', async () => {
    const now = Date.now();
    const t = (fields: Record<string, unknown>) => ({
      type: 'track',
      event: 'purchase',
      user_id: 'u1',
      ...fields,
    });
    const cases: [string, unknown][] = [
      ['invalid_type', 42],
      ['missing_field', { type: 'exposure', variation: 'a', user_id: 'u1' }],
      ['missing_identity', { type: 'track', event: 'purchase' }],
      ['invalid_kind', t({ type: 'identify' })],
      ['empty_string', t({ user_id: '   ' })],
      ['field_too_long', t({ user_id: 'u'.repeat(257) })],
      ['invalid_characters', t({ user_id: 'a\u0000b' })],
      ['invalid_event_name', t({ event: 'Purchase' })],
      ['reserved_event_name', t({ event: '$exposure' })],
      ['invalid_timestamp', t({ timestamp: 'yesterday' })],
      ['timestamp_in_future', t({ timestamp: now + DAY_MS })],
      ['timestamp_too_old', t({ timestamp: now - 60 * DAY_MS })],
      ['invalid_value', { type: 'alias', anonymous_id: 'same', user_id: 'same' }],
      ['nested_property', t({ properties: { cart: { items: 2 } } })],
      ['properties_too_large', t({ properties: { p: 'x'.repeat(4_200) } })],
      ['invalid_sample', t({ sample: 0.001 })],
      ['pii_email', t({ user_id: 'jane.doe@example.com' })],
      ['schema_violation', t({ event: 'checkout', properties: { plan: 'gold' } })],
    ];
    // '__proto__' as a property key cannot be built with JSON.stringify: splice it into the text.
    const protoEvent = '{"type":"track","event":"purchase","user_id":"u1","properties":{"__proto__":"x"}}';
    const text = JSON.stringify({ batch: cases.map((c) => c[1]) }).replace(/]}$/, `,${protoEvent}]}`);
    const res = await post(gw.url, '/v1/batch', text, { raw: true });
    expect(res.status, 'a batch of only bad events is still a 200').toBe(200);
    expect(res.json['accepted']).toBe(0);
    const rejected = res.json['rejected'] as {
      index: number;
      code: string;
      field: string;
      message: string;
    }[];
    const expected = [...cases.map((c) => c[0]), 'invalid_properties'];
    expect(
      rejected.map((r) => r.code),
      'one rejection per event, in batch order',
    ).toEqual(expected);
    expect(rejected.map((r) => r.index)).toEqual(expected.map((_, i) => i));

    const mismatch = await post(gw.url, '/v1/alias', t({}));
    expect(mismatch.status).toBe(200);
    expect((mismatch.json['rejected'] as { code: string }[])[0]?.code).toBe('kind_mismatch');

    const ndjson = await post(gw.url, '/v1/batch', '{"type":"track",\n', {
      raw: true,
      contentType: 'application/x-ndjson',
    });
    expect((ndjson.json['rejected'] as { code: string }[])[0]?.code).toBe(MALFORMED_JSON);

    const seen = new Set([...expected, 'kind_mismatch', MALFORMED_JSON]);
    expect(
      [...REJECTION_CODES, MALFORMED_JSON].filter((code) => !seen.has(code)),
      'codes never seen in a real response',
    ).toEqual([]);
  });

  it('accepts ndjson, one event per line, rejecting a malformed line alone', async () => {
    const id = run();
    const body = [
      JSON.stringify({ type: 'track', event: 'signup', user_id: `${id}-u1` }),
      '{"type": "track", "event": ',
      '',
      JSON.stringify({ type: 'exposure', experiment: 'e1', variation: 'a', user_id: `${id}-u2` }),
      '',
    ].join('\n');
    const res = await post(gw.url, '/v1/batch', body, { raw: true, contentType: 'application/x-ndjson' });
    expect(res.status).toBe(200);
    expect(res.json['accepted']).toBe(2);
    expect(res.json['rejected']).toEqual([
      { index: 1, code: 'malformed_json', field: '', message: expect.stringContaining('line 2') },
    ]);
    const messages = await readTopic(brokers, gw.gateway.topics.ingest, {
      count: 2,
      match: keyStartsWith(`acme/${id}`),
    });
    expect(messages.map((m) => m.key?.toString()).sort()).toEqual([`acme/${id}-u1`, `acme/${id}-u2`]);
  });

  it('writes a retried event twice, both records carrying its message_id (dedup is downstream)', async () => {
    const id = run();
    const batch = [
      { type: 'track', event: 'purchase', user_id: `${id}-u`, value: 10, message_id: `${id}-msg` },
    ];
    const first = await post(gw.url, '/v1/batch', { batch });
    const retry = await post(gw.url, '/v1/batch', { batch });
    expect([first.status, retry.status]).toEqual([200, 200]);
    const records = await Promise.all(
      (
        await readTopic(brokers, gw.gateway.topics.ingest, {
          count: 2,
          match: keyStartsWith(`acme/${id}`),
          settleMs: 300,
        })
      ).map(decode),
    );
    expect(records.map((r) => r.value['message_id'])).toEqual([`${id}-msg`, `${id}-msg`]);
    expect(records[0]?.value['event_id'], 'each write is its own accepted event').not.toBe(
      records[1]?.value['event_id'],
    );
  });

  it('writes under the project of the key', async () => {
    const id = run();
    const res = await post(
      gw.url,
      '/v1/batch',
      { batch: [{ type: 'track', event: 'checkout', user_id: `${id}-u` }] },
      { key: KEYS.shopWrite },
    );
    expect(res.json['accepted'], 'shop has no definition of checkout: accepted').toBe(1);
    const [message] = await readTopic(brokers, gw.gateway.topics.ingest, {
      count: 1,
      match: keyStartsWith(`shop/${id}`),
    });
    expect(message, 'record keyed shop/...').toBeDefined();
    expect((await decode(message as KafkaMessage)).value['project']).toBe('shop');
  });
});

describe('single-event routes', () => {
  it.each([
    ['/v1/track', { event: 'signup', user_id: 'u1' }],
    ['/v1/exposure', { experiment: 'e1', variation: 'b', anonymous_id: 'a1' }],
    ['/v1/alias', { anonymous_id: 'a1', user_id: 'u1' }],
  ])('%s accepts one event without a type field', async (route, event) => {
    const res = await post(gw.url, route, event);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ accepted: 1, rejected: [], dropped: 0 });
  });
});

describe('authentication', () => {
  it.each([
    ['no Authorization header', null, 401, 'unauthorized'],
    ['an unknown key', 'not-a-key', 401, 'unauthorized'],
    ['a read key', KEYS.acmeRead, 403, 'forbidden'],
  ])('answers %s with %i', async (_name, key, status, code) => {
    const res = await post(gw.url, '/v1/batch', { batch: [] }, { key });
    expect(res.status).toBe(status);
    expectErrorBody(res.json, code);
  });

  it('answers a non-Bearer scheme with 401', async () => {
    const res = await fetch(`${gw.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: '{"batch":[]}',
    });
    expect(res.status).toBe(401);
    expectErrorBody((await res.json()) as Record<string, unknown>, 'unauthorized');
  });
});

describe('request errors', () => {
  it('answers malformed JSON with 400 invalid_json naming the problem', async () => {
    const res = await post(gw.url, '/v1/batch', '{"batch": [', { raw: true });
    expect(res.status).toBe(400);
    expectErrorBody(res.json, 'invalid_json');
    expect((res.json['error'] as { message: string }).message).toContain('not valid JSON');
  });

  it('answers an empty JSON body with 400 invalid_json', async () => {
    const res = await post(gw.url, '/v1/batch', '', { raw: true });
    expect(res.status).toBe(400);
    expectErrorBody(res.json, 'invalid_json');
  });

  it.each([
    ['an array', []],
    ['an object without batch', { events: [] }],
    ['batch not an array', { batch: { type: 'track' } }],
  ])('answers %s with 400 invalid_body', async (_name, body) => {
    const res = await post(gw.url, '/v1/batch', body);
    expect(res.status).toBe(400);
    expectErrorBody(res.json, 'invalid_body');
  });

  it('answers more than MAX_BATCH_EVENTS events with 413 too_many_events', async () => {
    const batch = Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => ({
      type: 'track',
      event: 'x',
      user_id: 'u',
    }));
    const res = await post(gw.url, '/v1/batch', { batch });
    expect(res.status).toBe(413);
    expectErrorBody(res.json, 'too_many_events');
    expect((res.json['error'] as { message: string }).message).toContain(`${MAX_BATCH_EVENTS + 1} events`);
  });

  it('answers a body over MAX_BODY_BYTES with 413 body_too_large', async () => {
    const res = await post(gw.url, '/v1/batch', {
      batch: [{ type: 'track', event: 'x', user_id: 'u', pad: 'x'.repeat(MAX_BODY_BYTES) }],
    });
    expect(res.status).toBe(413);
    expectErrorBody(res.json, 'body_too_large');
  });

  it('answers an unsupported Content-Type with 415', async () => {
    const res = await post(gw.url, '/v1/batch', 'batch=1', {
      raw: true,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
    expectErrorBody(res.json, 'unsupported_media_type');
  });

  it('answers an unknown route with 404 in the same format', async () => {
    const res = await fetch(`${gw.url}/v2/batch`);
    expect(res.status).toBe(404);
    expectErrorBody((await res.json()) as Record<string, unknown>, 'not_found');
  });

  it('echoes a caller X-Request-Id', async () => {
    const res = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
  });
});

describe('operations endpoints', () => {
  it('reports ready with Kafka up and the schema id known', async () => {
    const res = await fetch(`${gw.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, Record<string, unknown>> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks['kafka']?.['status']).toBe('up');
    expect(body.checks['schema']).toMatchObject({
      status: 'registered',
      subject: `${gw.prefix}ingest-value`,
      id: gw.gateway.schema.current()?.id,
    });
    expect(body.checks['registry']?.['status']).toBe('up');
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('exposes request, event, produce and batch-size metrics', async () => {
    await post(gw.url, '/v1/batch', {
      batch: [
        { type: 'track', event: 'purchase' },
        { type: 'track', event: 'purchase', user_id: 'u1' },
        { type: 'track', event: 'purchase', user_id: 'u2', context: { user_agent: GOOGLEBOT_UA } },
      ],
    });
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(
      /liftstream_gateway_events_total\{outcome="rejected",code="missing_identity"\} [1-9]/,
    );
    expect(text).toMatch(/liftstream_gateway_events_total\{outcome="accepted",code=""\} [1-9]/);
    expect(text).toMatch(/liftstream_gateway_events_total\{outcome="dropped",code="bot"\} [1-9]/);
    expect(text).toMatch(
      /liftstream_gateway_http_requests_total\{route="\/v1\/batch",method="POST",status="200"\} [1-9]/,
    );
    expect(text).toMatch(/liftstream_gateway_produce_duration_seconds_count\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/liftstream_gateway_produce_wait_seconds_count [1-9]/);
    expect(text).toMatch(/liftstream_gateway_produce_batch_records_count [1-9]/);
    expect(text).toContain('liftstream_gateway_produce_in_flight_records 0');
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const route of ['/v1/batch', '/v1/track', '/v1/exposure', '/v1/alias']) {
      expect(Object.keys(doc.paths[route]?.['post']?.responses ?? {}), route).toContain('200');
    }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
  });
});

describe('schema evolution', () => {
  it('accepts an optional new field under the ingest subject; old and new readers read each other', async () => {
    const id = run();
    await post(gw.url, '/v1/batch', { batch: [{ type: 'track', event: 'signup', user_id: `${id}-u` }] });
    const [message] = await readTopic(brokers, gw.gateway.topics.ingest, {
      count: 1,
      match: keyStartsWith(`acme/${id}`),
    });

    const v1 = readAvsc('ingest-event');
    const v2 = {
      ...v1,
      fields: [...(v1['fields'] as object[]), { name: 'segment', type: ['null', 'string'], default: null }],
    };
    const registry = new AvroSchemaRegistry(registryUrl);
    const next = await registry.register(`${gw.prefix}ingest-value`, v2);
    expect(next.id, 'the registry takes v2 as a compatible new version').not.toBe(
      gw.gateway.schema.current()?.id,
    );

    const v1Type = avro.Type.forSchema(v1 as avro.Schema);
    const v2Type = avro.Type.forSchema(v2 as avro.Schema);
    const written = (message as KafkaMessage).value as Buffer;
    const asV2 = v2Type.fromBuffer(written.subarray(5), v2Type.createResolver(v1Type)) as Record<
      string,
      unknown
    >;
    expect(asV2['segment'], 'a v2 reader fills the default for gateway records').toBeNull();
    expect(asV2['user_id']).toBe(`${id}-u`);
    const v2Record = next.encode({ ...asV2, segment: 'beta' });
    const asV1 = v1Type.fromBuffer(v2Record.subarray(5), v1Type.createResolver(v2Type)) as Record<
      string,
      unknown
    >;
    expect(asV1['user_id'], 'an old reader (the processor) skips the new field').toBe(`${id}-u`);
    expect(asV1).not.toHaveProperty('segment');
  });
});

describe('producers on the main thread (PRODUCER_THREADS=false)', () => {
  it('writes and acknowledges like the threaded producers', async () => {
    const inThread = await startTestGateway({
      brokers,
      registryUrl,
      env: { PRODUCER_THREADS: 'false', PRODUCER_COUNT: '1' },
    });
    try {
      const id = run();
      const res = await post(inThread.url, '/v1/batch', {
        batch: [
          { type: 'track', event: 'signup', user_id: `${id}-u1` },
          { type: 'alias', anonymous_id: `${id}-a1`, user_id: `${id}-u1` },
        ],
      });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.json['accepted']).toBe(2);
      const messages = await readTopic(brokers, inThread.gateway.topics.ingest, {
        count: 2,
        match: keyStartsWith(`acme/${id}`),
      });
      expect(messages.map((m) => m.key?.toString()).sort()).toEqual([`acme/${id}-a1`, `acme/${id}-u1`]);
    } finally {
      await inThread.close();
      await cleanUp(brokers, registryUrl, inThread.prefix);
    }
  });
});

describe('graceful shutdown', () => {
  it('answers a request in flight after acknowledgement, flushes it, then refuses new connections', async () => {
    // A long linger keeps the request queued in the coalescer when shutdown starts.
    const stopping = await startTestGateway({ brokers, registryUrl, env: { LINGER_MS: '300' } });
    const id = run();
    try {
      const inFlight = post(stopping.url, '/v1/batch', {
        batch: [{ type: 'track', event: 'signup', user_id: `${id}-u` }],
      });
      await new Promise((r) => setTimeout(r, 50));
      const closed = stopping.close();
      const res = await inFlight;
      await closed;
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.json['accepted']).toBe(1);
      const messages = await readTopic(brokers, stopping.gateway.topics.ingest, {
        count: 1,
        match: keyStartsWith(`acme/${id}`),
      });
      expect(messages, 'the acknowledged record is on the topic').toHaveLength(1);
      const after = await fetch(`${stopping.url}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(after, 'no longer listening').toBe('refused');
    } finally {
      await cleanUp(brokers, registryUrl, stopping.prefix);
    }
  });
});
