/**
 * An experiment whose configured control has no stored unit yet (its first exposures a moment behind the
 * treatment's, at the experiment's start): every results endpoint answers with the control at 0 units and
 * no comparison, where it used to refuse the request with a 400. A control that is neither stored nor
 * configured is still refused. Real ClickHouse (embedded chDB, or CLICKHOUSE_URL).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';
import { getJson, testStatsApp } from '../../helpers/stats/test-stats-app.ts';

const START = Date.UTC(2026, 3, 1, 9, 0);
const NOW = new Date(Date.UTC(2026, 3, 3, 9, 0));
const READ = 'launch-read-key';

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'shop',
      keys: [{ role: 'read', sha256: sha256Hex(READ) }],
      metrics: [
        { id: 'revenue', type: 'mean', event: 'purchase', cuped: { days: 7 } },
        { id: 'bought', type: 'conversion', event: 'purchase', window: { hours: 48 } },
      ],
      experiments: { launch: { metrics: ['revenue', 'bought'], control: 'control' } },
    },
  ],
});

// Only the treatment's exposures are stored (the detours of changelogOf stay within the one arm).
const units = generateUnits({
  project: 'shop',
  experiment: 'launch',
  arms: ['treatment'],
  units: 60,
  events: ['purchase'],
  start: START,
  seed: 5,
  conversion: { treatment: 0.5 },
});
const treatmentUnits = units.filter((u) => !u.multipleExposure).length;

let ch: ClickHouseFixture;
let app: FastifyInstance;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'absent_control');
  await ch.store(changelogOf(units, 6, ['treatment']), { rowsPerInsert: 100 });
  app = await testStatsApp(catalog, ch.client, NOW);
});

afterAll(async () => {
  await app?.close();
  await ch?.close();
});

const get = (url: string) => getJson(app, READ, url);

interface Row {
  variation: string;
  units: number;
  lift: number | null;
  p_value: number | null;
  [key: string]: unknown;
}

/** The control at 0 units, listed first; the treatment with its units and no comparison. */
function expectNoComparisonYet(rows: readonly Row[], label: string): void {
  expect(
    rows.map((r) => [r.variation, r.units]),
    label,
  ).toEqual([
    ['control', 0],
    ['treatment', treatmentUnits],
  ]);
  const treatment = rows[1] as Row;
  expect(treatment.lift, `${label}: treatment lift`).toBeNull();
  expect(treatment.p_value, `${label}: treatment p_value`).toBeNull();
}

describe('a configured control with no stored unit yet', () => {
  it('is listed at 0 units by the event results, with no comparison', async () => {
    const { status, body } = await get('/v1/experiments/launch/results?metric=purchase');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['control']).toBe('control');
    expectNoComparisonYet(body['variations'] as Row[], 'event results');
  });

  it('is listed at 0 units in every catalogue metric (CUPED and windowed ones too)', async () => {
    const { status, body } = await get('/v1/experiments/launch/results?metrics=revenue,bought');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['control']).toBe('control');
    expect(body['units']).toEqual([
      { variation: 'control', units: 0 },
      { variation: 'treatment', units: treatmentUnits },
    ]);
    const blocks = body['metrics'] as { metric: string; variations: Row[] }[];
    expect(blocks.map((b) => b.metric)).toEqual(['revenue', 'bought']);
    for (const block of blocks) expectNoComparisonYet(block.variations, block.metric);
    expect(treatmentUnits, 'the scenario stores treatment units').toBeGreaterThan(40);
  });

  it('names the control of a time series whose points have no comparison yet', async () => {
    const { status, body } = await get(
      '/v1/experiments/launch/results/timeseries?metric=revenue&interval=day',
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['control']).toBe('control');
    const points = body['points'] as { variations: Row[] }[];
    expect(points.length).toBeGreaterThanOrEqual(2);
    for (const point of points) for (const v of point.variations) expect(v.lift, v.variation).toBeNull();
  });

  it('still refuses a requested control that is neither stored nor configured, naming it', async () => {
    const { status, body } = await get('/v1/experiments/launch/results?metrics=revenue&control=baseline');
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toContain(
      'no variation named \\"baseline\\"; the variations are \\"treatment\\"',
    );
  });
});
