/**
 * Project isolation of the stats API over a real socket and real ClickHouse: two projects store an
 * experiment of the same name with the same unit and event ids, and one has an experiment of its own.
 * On every data endpoint a key reads only its own project's data whatever the request claims (a
 * `project` query parameter, X-Project-like headers, experiment names built to escape the project
 * filter); a missing or unknown key is 401 and a write key 403, in the one error format; the
 * endpoints without a key name no project or experiment. (results-api.integration.test.ts checks the
 * figures themselves; this file checks only whose they are.)
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { buildStatsApp } from '../../../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../../../services/stats/src/config.ts';
import { createStatsMetrics } from '../../../services/stats/src/stats-metrics.ts';
import { expectErrorBody } from '../../helpers/error-format.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, expectedStats, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';
import type { TruthUnit } from '../../helpers/stats/signed-rows-scenario.ts';

const KEYS = {
  acmeRead: 'acme-read-key-iso',
  acmeWrite: 'acme-write-key-iso',
  shopRead: 'shop-read-key-iso',
};
const START = Date.UTC(2026, 0, 5);
const ARMS = ['control', 'treatment'] as const;
const PRIVATE_EXPERIMENT = 'acme_only_pricing';

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'acme',
      keys: [
        { role: 'read', sha256: sha256Hex(KEYS.acmeRead) },
        { role: 'write', sha256: sha256Hex(KEYS.acmeWrite) },
      ],
    },
    { id: 'shop', keys: [{ role: 'read', sha256: sha256Hex(KEYS.shopRead) }] },
  ],
});

// Same experiment name, hence the same unit and event ids, in both projects; different sizes, so an
// answer mixing the two is told apart from either.
const scenario = (project: string, experiment: string, units: number, seed: number): TruthUnit[] =>
  generateUnits({ project, experiment, arms: ARMS, units, events: ['purchase'], start: START, seed });
const acmeCheckout = scenario('acme', 'checkout', 300, 31);
const acmePrivate = scenario('acme', PRIVATE_EXPERIMENT, 120, 32);
const shopCheckout = scenario('shop', 'checkout', 170, 33);
const TRUTH: Record<string, Record<string, TruthUnit[]>> = {
  acme: { checkout: acmeCheckout, [PRIVATE_EXPERIMENT]: acmePrivate },
  shop: { checkout: shopCheckout },
};
const READ_KEY: Record<string, string> = { acme: KEYS.acmeRead, shop: KEYS.shopRead };

/** Ways a request can claim project `other` besides its key. */
const CLAIMS = (other: string) =>
  [
    ['no claim', '', {}],
    ['a project query parameter', `project=${other}&project_id=${other}`, {}],
    [
      'X-Project-like headers',
      '',
      { 'x-project': other, 'x-liftstream-project': other, 'x-tenant-id': other },
    ],
  ] as const;

let ch: ClickHouseFixture;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'stats_isolation');
  let offset = 0;
  for (const [units, seed] of [
    [acmeCheckout, 41],
    [acmePrivate, 42],
    [shopCheckout, 43],
  ] as const) {
    const changelog = changelogOf(units, seed, ARMS);
    await ch.store(changelog, { firstOffset: offset });
    offset += changelog.exposures.length + changelog.attributed.length;
  }
  app = await buildStatsApp({
    config: STATS_CLIENT_LIMITS,
    catalog,
    clickhouse: ch.client,
    logger: createLogger('stats-isolation-test', 'silent'),
    metrics: createStatsMetrics(),
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await ch?.close();
});

async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const unitsOf = (units: readonly TruthUnit[]) =>
  expectedStats(units, 'purchase').variations.map((v) => ({ variation: v.variation, units: v.units }));

describe('keys that may not read', () => {
  it.each([
    ['/v1/experiments', 'no key', 401, 'unauthorized', {}],
    ['/v1/experiments', 'an unknown key', 401, 'unauthorized', { authorization: 'Bearer not-a-key' }],
    ['/v1/experiments', 'a write key', 403, 'forbidden', { authorization: `Bearer ${KEYS.acmeWrite}` }],
    [
      '/v1/experiments',
      'two read keys in one header',
      401,
      'unauthorized',
      { authorization: `Bearer ${KEYS.shopRead}, Bearer ${KEYS.acmeRead}` },
    ],
    ['/v1/experiments/checkout/results?metric=purchase', 'no key', 401, 'unauthorized', {}],
    [
      `/v1/experiments/checkout/results?metric=purchase&key=${KEYS.acmeRead}&api_key=${KEYS.acmeRead}`,
      'a key in the query string',
      401,
      'unauthorized',
      {},
    ],
    [
      '/v1/experiments/checkout/results?metric=purchase',
      'a write key',
      403,
      'forbidden',
      { authorization: `Bearer ${KEYS.acmeWrite}` },
    ],
  ] as const)('%s with %s: %i %s', async (path, _name, status, code, headers) => {
    const { status: got, json } = await get(path, headers);
    expect(got, JSON.stringify(json)).toBe(status);
    expectErrorBody(json, code);
  });
});

describe.each(['acme', 'shop'])("project %s's read key", (own) => {
  const other = own === 'acme' ? 'shop' : 'acme';

  it.each(CLAIMS(other))('lists only its own experiments (%s)', async (_name, query, claim) => {
    const { status, json } = await get(`/v1/experiments?${query}`, {
      authorization: `Bearer ${READ_KEY[own]}`,
      ...claim,
    });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json['project']).toBe(own);
    const listed = json['experiments'] as { experiment: string; variations: unknown }[];
    const truth = TRUTH[own] as Record<string, TruthUnit[]>;
    expect(listed.map((e) => e.experiment).sort()).toEqual(Object.keys(truth).sort());
    for (const e of listed) {
      expect(e.variations, `${own}/${e.experiment} units`).toEqual(unitsOf(truth[e.experiment] ?? []));
    }
  });

  it.each(CLAIMS(other))(
    'gets the results of its own experiment of a shared name (%s)',
    async (_name, query, claim) => {
      const { status, json } = await get(`/v1/experiments/checkout/results?metric=purchase&${query}`, {
        authorization: `Bearer ${READ_KEY[own]}`,
        ...claim,
      });
      expect(status, JSON.stringify(json)).toBe(200);
      const variations = json['variations'] as { variation: string; units: number }[];
      expect(
        variations
          .map((v) => ({ variation: v.variation, units: v.units }))
          .sort((a, b) => (a.variation < b.variation ? -1 : 1)),
        `${own}'s units, not ${other}'s nor both`,
      ).toEqual(unitsOf(TRUTH[own]?.['checkout'] ?? []));
    },
  );
});

describe("another project's experiment", () => {
  it.each(CLAIMS('acme'))('is unknown to the other key (%s)', async (_name, query, claim) => {
    const { status, json } = await get(
      `/v1/experiments/${PRIVATE_EXPERIMENT}/results?metric=purchase&${query}`,
      { authorization: `Bearer ${KEYS.shopRead}`, ...claim },
    );
    expect(status).toBe(404);
    expectErrorBody(json, 'unknown_experiment');
    expect((json['error'] as { message: string }).message).toContain('project "shop"');
  });

  it.each([
    `acme/${PRIVATE_EXPERIMENT}`,
    `../${PRIVATE_EXPERIMENT}`,
    `${PRIVATE_EXPERIMENT}' OR '1'='1`,
    `x') OR project = 'acme' OR ('1'='1`,
    `${PRIVATE_EXPERIMENT}\u0000`,
  ])('cannot be reached with the experiment name %j', async (name) => {
    const { status, json } = await get(
      `/v1/experiments/${encodeURIComponent(name)}/results?metric=purchase`,
      { authorization: `Bearer ${KEYS.shopRead}` },
    );
    expect(status, JSON.stringify(json)).toBe(404);
    expectErrorBody(json, 'unknown_experiment');
  });
});

describe('endpoints without a key', () => {
  it.each(['/healthz', '/readyz', '/metrics', '/openapi.json'])(
    '%s names no project or experiment',
    async (path) => {
      const text = await (await fetch(`${url}${path}`)).text();
      expect(text.length, 'it answers').toBeGreaterThan(0);
      for (const secret of ['acme', 'shop', PRIVATE_EXPERIMENT]) {
        expect(text.includes(secret), `${path} mentions "${secret}"`).toBe(false);
      }
    },
  );
});
