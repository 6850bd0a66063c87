/**
 * Project isolation of ingestion, over a real socket into the real broker and registry: a write key
 * of one project posting to every ingest route, with every way a body or request can claim another
 * project (a `project` field in the event and in the batch, `context.project`, ids shaped
 * `<other project>/<id>`, X-Project-like headers, a `project` query parameter), writes only records of
 * its own project, keyed `<own project>/…`; the claims are ignored with a named `unknown_field`
 * warning. Keys in other places than the Authorization header, or two keys in it, are refused; a read
 * key cannot write on any route; and the unauthenticated endpoints say nothing about any project.
 */
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { confluentDecode } from '../../helpers/confluent-deserializer.ts';
import { expectErrorBody } from '../../helpers/error-format.ts';
import { KEYS, cleanUp, readTopic, startTestGateway } from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const RUN = `iso${randomUUID().slice(0, 8)}`;

interface Route {
  readonly name: string;
  readonly path: string;
  readonly contentType: string;
  /** The request body of `events`, each claiming project `other`. */
  body(events: Record<string, unknown>[], other: string): string;
  /** The kinds of events this route takes. */
  readonly kinds: readonly ('track' | 'exposure' | 'alias')[];
}

const ROUTES: readonly Route[] = [
  {
    name: 'POST /v1/batch (JSON)',
    path: '/v1/batch',
    contentType: 'application/json',
    body: (events, other) => JSON.stringify({ project: other, batch: events }),
    kinds: ['track', 'exposure', 'alias'],
  },
  {
    name: 'POST /v1/batch (ndjson)',
    path: '/v1/batch',
    contentType: 'application/x-ndjson',
    body: (events) => events.map((e) => JSON.stringify(e)).join('\n'),
    kinds: ['track', 'exposure', 'alias'],
  },
  ...(['track', 'exposure', 'alias'] as const).map((kind) => ({
    name: `POST /v1/${kind}`,
    path: `/v1/${kind}`,
    contentType: 'application/json',
    body: (events: Record<string, unknown>[]) => JSON.stringify(events[0]),
    kinds: [kind],
  })),
];

const WRITERS = [
  { project: 'acme', key: KEYS.acmeWrite, other: 'shop' },
  { project: 'shop', key: KEYS.shopWrite, other: 'acme' },
] as const;

/** An event of `kind` that claims project `other` in its body, its context and its ids. */
function claimingEvent(
  kind: 'track' | 'exposure' | 'alias',
  other: string,
  id: string,
): Record<string, unknown> {
  const claims = { project: other, user_id: `${other}/${id}-user` };
  switch (kind) {
    case 'track':
      return { type: kind, event: 'purchase', ...claims, context: { project: other } };
    case 'exposure':
      return { type: kind, experiment: 'checkout', variation: 'b', ...claims, context: { project: other } };
    case 'alias':
      return { type: kind, ...claims, anonymous_id: `${other}/${id}-anon` };
  }
}

interface Case {
  route: Route;
  writer: (typeof WRITERS)[number];
  id: string;
  status: number;
  json: Record<string, unknown>;
}

let gw: TestGateway;
const cases: Case[] = [];
const records = new Map<string, { key: string; value: Record<string, unknown> }[]>();

beforeAll(async () => {
  gw = await startTestGateway({ brokers, registryUrl });
  // Every route, in both directions, then one read of the topic for all of them.
  for (const writer of WRITERS) {
    for (const [i, route] of ROUTES.entries()) {
      const id = `${RUN}-${writer.project}-${i}`;
      const res = await fetch(`${gw.url}${route.path}?project=${writer.other}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${writer.key}`,
          'content-type': route.contentType,
          'x-project': writer.other,
          'x-liftstream-project': writer.other,
          'x-tenant-id': writer.other,
        },
        body: route.body(
          route.kinds.map((kind) => claimingEvent(kind, writer.other, id)),
          writer.other,
        ),
      });
      cases.push({
        route,
        writer,
        id,
        status: res.status,
        json: (await res.json()) as Record<string, unknown>,
      });
    }
  }
  const expected = cases.reduce((n, c) => n + Number(c.json['accepted'] ?? 0), 0);
  const messages = await readTopic(brokers, gw.gateway.topics.ingest, {
    count: expected,
    match: (m) => m.key?.toString('utf8').includes(RUN) ?? false,
    settleMs: 1_000,
  });
  for (const m of messages) {
    const key = (m.key as Buffer).toString('utf8');
    const { value } = await confluentDecode(registryUrl, (m as KafkaMessage).value as Buffer);
    const id = cases.find((c) => key.includes(`${c.id}-`))?.id ?? 'unmatched';
    records.set(id, [...(records.get(id) ?? []), { key, value: value as Record<string, unknown> }]);
  }
});

afterAll(async () => {
  await gw?.close();
  if (gw) await cleanUp(brokers, registryUrl, gw.prefix);
});

describe('a write key claiming another project', () => {
  it.each(WRITERS.flatMap((writer) => ROUTES.map((route) => [route.name, writer.project, writer.other])))(
    '%s with the %s key, claiming %s, writes only records of its own project',
    (routeName, own) => {
      const c = cases.find((x) => x.route.name === routeName && x.writer.project === own) as Case;
      expect(c.status, JSON.stringify(c.json)).toBe(200);
      expect(c.json['accepted'], 'every event accepted').toBe(c.route.kinds.length);
      const warnings = c.json['warnings'] as { index: number; code: string; field: string }[];
      expect(
        warnings.filter((w) => w.field === 'project').map((w) => [w.index, w.code]),
        "each event's project field ignored with a named warning",
      ).toEqual(c.route.kinds.map((_, i) => [i, 'unknown_field']));

      const written = records.get(c.id) ?? [];
      expect(written.length, 'exactly the accepted events are on the topic').toBe(c.route.kinds.length);
      for (const r of written) {
        expect(r.value['project'], `record ${r.key}`).toBe(own);
        expect(r.key.startsWith(`${own}/`), `key ${r.key} is under ${own}/`).toBe(true);
      }
    },
  );

  it('writes nothing that no case accounts for', () => {
    expect(records.get('unmatched') ?? []).toEqual([]);
  });
});

describe('keys outside the Authorization header or two keys in it', () => {
  it.each([
    ['two keys in one header', { authorization: `Bearer ${KEYS.acmeWrite}, Bearer ${KEYS.shopWrite}` }, ''],
    ['a key joined to another project', { authorization: `Bearer shop:${KEYS.acmeWrite}` }, ''],
    ['a write key as ?key=', {}, `?key=${KEYS.shopWrite}`],
    ['a key in an X-Api-Key header', { 'x-api-key': KEYS.shopWrite }, ''],
  ])('refuses %s with 401 unauthorized', async (_name, headers: Record<string, string>, query) => {
    const res = await fetch(`${gw.url}/v1/track${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ event: 'purchase', user_id: `${RUN}-refused`, write_key: KEYS.shopWrite }),
    });
    expect(res.status).toBe(401);
    expectErrorBody((await res.json()) as Record<string, unknown>, 'unauthorized');
  });
});

describe('a write key in the query string', () => {
  // ?api_key= carries client keys (beacons); a write key there is refused as a leaked secret.
  it('is refused with 403 forbidden, writing nothing', async () => {
    const res = await fetch(`${gw.url}/v1/track?api_key=${KEYS.shopWrite}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'purchase', user_id: `${RUN}-refused` }),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as Record<string, unknown>;
    expectErrorBody(body, 'forbidden');
    expect((body['error'] as { message: string }).message).toMatch(/write keys are secrets/);
  });
});

describe('a read key', () => {
  it.each(ROUTES.map((route) => [route.name, route] as const))(
    'cannot write through %s (403 forbidden)',
    async (_name, route) => {
      const res = await fetch(`${gw.url}${route.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.acmeRead}`, 'content-type': route.contentType },
        body: route.body(
          route.kinds.map((kind) => claimingEvent(kind, 'acme', `${RUN}-read`)),
          'acme',
        ),
      });
      expect(res.status).toBe(403);
      expectErrorBody((await res.json()) as Record<string, unknown>, 'forbidden');
    },
  );
});

describe('endpoints without a key', () => {
  it.each(['/healthz', '/readyz', '/metrics', '/openapi.json'])(
    '%s names no project, id or experiment it has seen',
    async (path) => {
      const text = await (await fetch(`${gw.url}${path}`)).text();
      expect(text.length, 'it answers').toBeGreaterThan(0);
      for (const secret of ['acme', 'shop', RUN, 'checkout']) {
        expect(text.includes(secret), `${path} mentions "${secret}"`).toBe(false);
      }
    },
  );
});
