/**
 * GET /v1/alerts through the app as main.ts builds it, over a ClickHouse stand-in that records the query and
 * answers canned rows of the `alerts` grouping: authentication, project scoping, parameters, and the answer
 * as serialised by its schema (details of both kinds survive it).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStatsApp } from '../../../../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../../../../services/stats/src/config.ts';
import { createStatsMetrics } from '../../../../services/stats/src/stats-metrics.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { parseProjectCatalog, sha256Hex } from '../../../../shared/projects/project-catalog.ts';

const KEYS = { read: 'shop-read', write: 'shop-write' };
const srmDetails = {
  p_value: 1e-7,
  threshold: 0.001,
  observed: { control: 100, treatment: 250 },
  expected: { control: 175, treatment: 175 },
};
const guardrailDetails = {
  direction: 'decrease',
  control: 'control',
  variations: [
    {
      variation: 'treatment',
      lift: 0.4,
      sequential: { lift_ci: [0.1, 0.7], p_value: 0.002, tuning_parameter: 5000 },
      breached: true,
    },
  ],
};
const ROWS = [
  {
    id: 'g-1',
    of_experiment: 'checkout',
    of_kind: 'guardrail',
    of_metric: 'errors',
    raised_ms: Date.UTC(2026, 0, 2),
    is_cleared: 0,
    cleared_ms: 0,
    raised_details: JSON.stringify(guardrailDetails),
    cleared_details: '',
  },
  {
    id: 's-1',
    of_experiment: 'checkout',
    of_kind: 'srm',
    of_metric: '',
    raised_ms: Date.UTC(2026, 0, 1),
    is_cleared: 1,
    cleared_ms: Date.UTC(2026, 0, 1, 0, 5),
    raised_details: JSON.stringify(srmDetails),
    cleared_details: JSON.stringify({ ...srmDetails, p_value: 0.4 }),
  },
];

let app: FastifyInstance;
const queries: { query: string; query_params?: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const clickhouse = {
    query: async (params: { query: string; query_params?: Record<string, unknown> }) => {
      queries.push(params);
      return { json: async () => ROWS };
    },
  } as unknown as ClickHouseClient;
  app = await buildStatsApp({
    config: STATS_CLIENT_LIMITS,
    catalog: parseProjectCatalog({
      projects: [
        {
          id: 'shop',
          keys: [
            { role: 'read', sha256: sha256Hex(KEYS.read) },
            { role: 'write', sha256: sha256Hex(KEYS.write) },
          ],
        },
      ],
    }),
    clickhouse,
    logger: createLogger('alerts-routes-test', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
  });
});

afterAll(async () => {
  await app?.close();
});

async function get(url: string, key: string | null = KEYS.read) {
  queries.length = 0;
  const response = await app.inject({
    method: 'GET',
    url,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('GET /v1/alerts', () => {
  it('needs a read key', async () => {
    expect((await get('/v1/alerts', null)).status).toBe(401);
    expect((await get('/v1/alerts', KEYS.write)).status).toBe(403);
  });

  it("lists the key's project's open alerts by default, at most 100", async () => {
    const { status } = await get('/v1/alerts');
    expect(status).toBe(200);
    expect(queries[0]?.query_params, 'scoped to the key project').toEqual({ project: 'shop', limit: 100 });
    expect(queries[0]?.query, 'only alerts not cleared').toMatch(/HAVING NOT is_cleared/);
    expect(queries[0]?.query, 'newest first').toMatch(/ORDER BY raised_ms DESC/);
  });

  it('lists open and past alerts with state=all, for one experiment', async () => {
    const { status, body } = await get('/v1/alerts?state=all&experiment=checkout&limit=5');
    expect(status).toBe(200);
    expect(queries[0]?.query_params).toEqual({ project: 'shop', experiment: 'checkout', limit: 5 });
    expect(queries[0]?.query).not.toMatch(/HAVING/);
    expect(body).toEqual({
      project: 'shop',
      state: 'all',
      alerts: [
        {
          id: 'g-1',
          experiment: 'checkout',
          kind: 'guardrail',
          metric: 'errors',
          state: 'open',
          raised_at: '2026-01-02T00:00:00.000Z',
          cleared_at: null,
          details: guardrailDetails,
          cleared_details: null,
        },
        {
          id: 's-1',
          experiment: 'checkout',
          kind: 'srm',
          metric: null,
          state: 'cleared',
          raised_at: '2026-01-01T00:00:00.000Z',
          cleared_at: '2026-01-01T00:05:00.000Z',
          details: srmDetails,
          cleared_details: { ...srmDetails, p_value: 0.4 },
        },
      ],
    });
  });

  it.each(['state=closed', 'limit=0', 'limit=1001', 'limit=ten'])(
    'refuses %s, naming the parameter',
    async (query) => {
      const { status, body } = await get(`/v1/alerts?${query}`);
      expect(status).toBe(400);
      expect(JSON.stringify(body)).toContain(`parameter \\"${query.split('=')[0]}\\"`);
    },
  );

  it('is in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toContain('/v1/alerts');
  });
});
