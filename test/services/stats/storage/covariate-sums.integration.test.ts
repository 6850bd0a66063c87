/**
 * CUPED covariate sums (docs/semantics.md, "Variance reduction") read from real ClickHouse (embedded chDB, or
 * CLICKHOUSE_URL): the rows the sink stores from liftstream.covariates, with a retraction, rows beyond one
 * metric's own lookback but inside another's, a unit with only pre-exposure events and a unit with none, are
 * turned by loadMetricStats into Σ y, Σ y², Σ v·y per variation equal to a plain loop over the live rows,
 * in both query shapes (the projection path and the join with live assignments), and rows that outlived
 * their assignment (a unit merged away, a first exposure that moved) are left out.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import { formatDateTime64 } from '../../../../services/sink/src/sink-rows.ts';
import type { MetricStats } from '../../../../services/stats/src/math/metric-stats.ts';
import { loadMetricStats } from '../../../../services/stats/src/storage/metric-query.ts';
import { openClickHouse, type ClickHouseFixture } from '../../../helpers/stats/clickhouse-fixture.ts';
import { catalogueMetric } from '../../../helpers/stats/catalogue-metric.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 10, 12, 0);

const metric = catalogueMetric;
const revenue14 = metric('revenue14', { cuped: { days: 14 } });
const revenue1 = metric('revenue1', { cuped: { days: 1 } });
const orders = metric('orders', { type: 'count', cap: { absolute: 1 }, cuped: { days: 14 } });
const plain = metric('revenue', {});
const catalogue = [revenue14, revenue1, orders, plain];

interface Unit {
  unit: string;
  arm: string;
  /** Post-exposure purchases (value, weight). */
  after: { value: number | null; weight: number }[];
  /** Pre-exposure purchases: hours before the first exposure, value, weight; `retracted` ones were undone. */
  before: { hoursBefore: number; value: number | null; weight: number; retracted?: boolean }[];
}

const UNITS: Unit[] = [
  {
    unit: 'u1',
    arm: 'control',
    after: [{ value: 10, weight: 1 }],
    before: [
      { hoursBefore: 1, value: 4, weight: 1 },
      { hoursBefore: 72, value: 6, weight: 2 },
      { hoursBefore: 2, value: 100, weight: 1, retracted: true },
    ],
  },
  { unit: 'u2', arm: 'a', after: [], before: [{ hoursBefore: 2, value: 5, weight: 1 }] },
  { unit: 'u3', arm: 'a', after: [{ value: 7, weight: 1 }], before: [] },
  {
    unit: 'u4',
    arm: 'a',
    after: [
      { value: 3, weight: 1 },
      { value: null, weight: 1 },
    ],
    before: [
      { hoursBefore: 0.5, value: null, weight: 1 },
      { hoursBefore: 23, value: 2.5, weight: 4 },
    ],
  },
  { unit: 'u5', arm: 'control', after: [], before: [] },
];

let ch: ClickHouseFixture;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'covariate-sums');
  const exposures = UNITS.map((u, i) => ({
    project: 'shop',
    experiment: 'exp',
    unit: u.unit,
    variation: u.arm,
    first_exposure_at: formatDateTime64(T0),
    multiple_exposure: false,
    dimensions: {},
    sign: 1,
    src_partition: 0,
    src_offset: i,
  }));
  const attributed = UNITS.flatMap((u) =>
    u.after.map((e, j) => ({
      project: 'shop',
      experiment: 'exp',
      unit: u.unit,
      variation: u.arm,
      event_id: `${u.unit}-after-${j}`,
      event: 'purchase',
      timestamp: formatDateTime64(T0 + (j + 1) * HOUR),
      weight: e.weight,
      value: e.value,
      sign: 1,
      src_partition: 0,
      src_offset: 0,
    })),
  );
  const covariates = UNITS.flatMap((u) =>
    u.before.flatMap((e, j) => {
      const row = {
        project: 'shop',
        experiment: 'exp',
        unit: u.unit,
        variation: u.arm,
        first_exposure_at: formatDateTime64(T0),
        event_id: `${u.unit}-before-${j}`,
        event: 'purchase',
        timestamp: formatDateTime64(T0 - e.hoursBefore * HOUR),
        weight: e.weight,
        value: e.value,
        sign: 1,
        src_partition: 0,
        src_offset: 0,
      };
      return e.retracted ? [row, { ...row, sign: -1 }] : [row];
    }),
  );
  // Rows that outlived their assignment (their tracks were evicted before the correction, so never
  // retracted): u6 was merged away (its exposure row retracted), u7's first exposure moved to T0 from T0 + 1 h.
  const stale = (unit: string, arm: string, firstExposure: number) => ({
    project: 'shop',
    experiment: 'exp',
    unit,
    variation: arm,
    first_exposure_at: formatDateTime64(firstExposure),
    event_id: `${unit}-stale`,
    event: 'purchase',
    timestamp: formatDateTime64(T0 - HOUR),
    weight: 1,
    value: 1000,
    sign: 1,
    src_partition: 0,
    src_offset: 0,
  });
  covariates.push(stale('u6', 'a', T0), stale('u7', 'control', T0 + HOUR));
  const u6 = { ...exposures[0]!, unit: 'u6', variation: 'a', src_offset: 100 };
  exposures.push(u6, { ...u6, sign: -1, src_offset: 101 });
  exposures.push({ ...exposures[0]!, unit: 'u7', src_offset: 102 });
  await ch.client.insert({ table: 'exposures', values: exposures, format: 'JSONEachRow' });
  await ch.client.insert({ table: 'attributed', values: attributed, format: 'JSONEachRow' });
  await ch.client.insert({ table: 'covariates', values: covariates, format: 'JSONEachRow' });
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

/** Σ y, Σ y², Σ v·y per arm from the truth above, for a metric with lookback `days` (v capped as the metric says). */
function expectedCovariates(
  m: MetricConfig,
): Record<string, { sum: number; sumSq: number; crossSum: number }> {
  const out: Record<string, { sum: number; sumSq: number; crossSum: number }> = {};
  const amount = (e: { value: number | null; weight: number }) =>
    m.type === 'count' ? e.weight : e.weight * (e.value ?? 0);
  for (const u of [...UNITS, { unit: 'u7', arm: 'control', after: [], before: [] }]) {
    const raw = u.after.reduce((s, e) => s + amount(e), 0);
    const v = m.cap !== undefined && 'absolute' in m.cap ? Math.min(raw, m.cap.absolute) : raw;
    const y = u.before
      .filter((e) => !e.retracted && e.hoursBefore * HOUR <= (m.cuped?.days ?? 0) * DAY)
      .reduce((s, e) => s + amount(e), 0);
    const arm = (out[u.arm] ??= { sum: 0, sumSq: 0, crossSum: 0 });
    arm.sum += y;
    arm.sumSq += y * y;
    arm.crossSum += v * y;
  }
  return out;
}

async function statsOf(asOf?: number): Promise<Map<string, MetricStats>> {
  const outcome = await loadMetricStats(ch.client, {
    project: 'shop',
    experiment: 'exp',
    metrics: catalogue,
    catalogue,
    asOf,
  });
  if (outcome.kind !== 'ok') throw new Error(`unexpected outcome ${outcome.kind}`);
  return outcome.groups[0]!.metrics;
}

describe('CUPED covariate sums', () => {
  it.each([
    ['projected (no window, dimension or as_of)', undefined],
    ['joined with live assignments (as_of now)', T0 + 30 * DAY],
  ])('equal the live rows under each metric’s own lookback: %s', async (_shape, asOf) => {
    const stats = await statsOf(asOf);
    for (const m of [revenue14, revenue1, orders]) {
      const expected = expectedCovariates(m);
      const actual = Object.fromEntries(stats.get(m.id)!.variations.map((v) => [v.variation, v.covariate]));
      for (const arm of ['a', 'control']) {
        const a = actual[arm]!;
        const e = expected[arm]!;
        expect(a.sum, `${m.id} ${arm} Σy`).toBeCloseTo(e.sum, 12);
        expect(a.sumSq, `${m.id} ${arm} Σy²`).toBeCloseTo(e.sumSq, 12);
        expect(a.crossSum, `${m.id} ${arm} Σvy`).toBeCloseTo(e.crossSum, 12);
      }
    }
    expect(
      stats.get('revenue1')!.variations.find((v) => v.variation === 'control')!.covariate!.sum,
      "the 72 h purchase is outside revenue1's day",
    ).toBe(4);
    expect(stats.get('revenue')!.variations[0]!.covariate, 'no cuped: no covariate').toBeUndefined();
    expect(
      stats.get('revenue14')!.variations.map((v) => v.units),
      'u7 counts (with y = 0: its row was derived against an old first exposure), u6 does not',
    ).toEqual([3, 3]);
  });

  it('leaves the post-exposure sums as they were without covariates', async () => {
    const stats = await statsOf();
    const a = stats.get('revenue14')!.variations.find((v) => v.variation === 'a')!;
    expect([a.units, a.conversions, a.sum, a.sumSq]).toEqual([3, 2, 10, 58]);
  });
});
