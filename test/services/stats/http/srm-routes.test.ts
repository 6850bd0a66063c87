/**
 * GET /v1/srm over a ClickHouse stand-in answering the experiments listing's rows: each experiment's SRM
 * block is the results endpoint's (math/srm.ts on the analysed units, against expectedSplit or an equal
 * split), or null with the reason when the configured split misses an exposed variation.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { srmResult } from '../../../../services/stats/src/math/srm.ts';
import type { ExperimentRow } from '../../../../services/stats/src/storage/experiments-query.ts';
import { sha256Hex } from '../../../../shared/projects/project-catalog.ts';
import { statsAppWithStandIn } from '../../../helpers/stats/stats-app-stand-in.ts';

const KEYS = { read: 'srm-read', write: 'srm-write' };
const row = (experiment: string, variation: string, units: number, multiple = false): ExperimentRow => ({
  experiment,
  variation,
  multiple_exposure: multiple ? 1 : 0,
  units,
  live_groups: 1,
  first_ms: Date.UTC(2026, 0, 1),
  last_ms: Date.UTC(2026, 0, 2),
});
const ROWS = [
  row('balanced', 'control', 1000),
  row('balanced', 'treatment', 1010),
  row('balanced', 'treatment', 7, true),
  row('skewed', 'control', 1000),
  row('skewed', 'treatment', 800),
  row('weighted', 'control', 2000),
  row('weighted', 'treatment', 1000),
  row('misconfigured', 'control', 10),
  row('misconfigured', 'surprise', 10),
];

let app: FastifyInstance;
const queried: Record<string, unknown>[] = [];

beforeAll(async () => {
  const clickhouse = {
    query: async (params: { query_params?: Record<string, unknown> }) => {
      queried.push(params.query_params ?? {});
      return { json: async () => ROWS };
    },
  } as unknown as ClickHouseClient;
  app = await statsAppWithStandIn({
    projects: [
      {
        id: 'shop',
        expectedSplit: {
          weighted: { control: 2, treatment: 1 },
          misconfigured: { control: 1, treatment: 1 },
        },
        keys: [
          { role: 'read', sha256: sha256Hex(KEYS.read) },
          { role: 'write', sha256: sha256Hex(KEYS.write) },
        ],
      },
    ],
    clickhouse,
  });
});

afterAll(async () => {
  await app?.close();
});

const get = (key: string | null) =>
  app.inject({
    method: 'GET',
    url: '/v1/srm',
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });

describe('GET /v1/srm', () => {
  it('needs a read key', async () => {
    expect((await get(null)).statusCode).toBe(401);
    expect((await get(KEYS.write)).statusCode).toBe(403);
  });

  it("gives each experiment of the key's project the SRM block its results would show", async () => {
    queried.length = 0;
    const res = await get(KEYS.read);
    expect(res.statusCode).toBe(200);
    expect(queried, 'one listing, of the key’s project').toEqual([{ project: 'shop' }]);
    const body = res.json() as { project: string; alarm_below: number; experiments: unknown[] };
    expect(body.project).toBe('shop');
    expect(body.alarm_below).toBe(0.001);
    const units = (pairs: [string, number][]) => pairs.map(([variation, n]) => ({ variation, units: n }));
    expect(body.experiments).toEqual([
      {
        experiment: 'balanced',
        srm: srmResult(
          units([
            ['control', 1000],
            ['treatment', 1010],
          ]),
        ),
        problem: null,
      },
      {
        experiment: 'misconfigured',
        srm: null,
        problem: 'expectedSplit has no weight for exposed variation "surprise"',
      },
      {
        experiment: 'skewed',
        srm: srmResult(
          units([
            ['control', 1000],
            ['treatment', 800],
          ]),
        ),
        problem: null,
      },
      {
        experiment: 'weighted',
        srm: srmResult(
          units([
            ['control', 2000],
            ['treatment', 1000],
          ]),
          { control: 2, treatment: 1 },
        ),
        problem: null,
      },
    ]);
    const skewed = (body.experiments[2] as { srm: { p_value: number } }).srm.p_value;
    expect(skewed, '1000 vs 800 is a mismatch').toBeLessThan(0.001);
    const weighted = (body.experiments[3] as { srm: { p_value: number } }).srm.p_value;
    expect(weighted, '2:1 as configured').toBe(1);
  });
});
