import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { MetricStats } from '../../../../services/stats/src/math/metric-stats.ts';
import { loadMetricStats } from '../../../../services/stats/src/storage/metric-query.ts';
import type { MetricStatsGroup } from '../../../../services/stats/src/storage/metric-query.ts';
import {
  MAX_TIMESERIES_POINTS,
  timeseriesBoundaries,
} from '../../../../services/stats/src/storage/timeseries-boundaries.ts';
import type { TimeseriesInterval } from '../../../../services/stats/src/storage/timeseries-boundaries.ts';
import { loadMetricTimeseries } from '../../../../services/stats/src/storage/timeseries-query.ts';
import type { MetricTimeseriesPoint } from '../../../../services/stats/src/storage/timeseries-query.ts';
import { openClickHouse } from '../../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, generateUnits } from '../../../helpers/stats/signed-rows-scenario.ts';
import type { TruthUnit } from '../../../helpers/stats/signed-rows-scenario.ts';

const HOUR = 3_600_000;
const PROJECT = 'shop';
const EXPERIMENT = 'checkout';
const ARMS = ['control', 'treatment'];
const START = Date.UTC(2026, 0, 5, 7, 30);
// Exposures over a day, events up to 3 days after: everything is before NOW.
const NOW = START + 4 * 24 * HOUR + 17 * 60_000 + 123;

const common = { guardrail: false, direction: 'increase' } as const;
const CATALOGUE: MetricConfig[] = [
  { id: 'purchased', type: 'conversion', event: 'purchase', ...common },
  { id: 'revenue_48h', type: 'mean', event: 'purchase', window: { delay_hours: 2, hours: 48 }, ...common },
  { id: 'carts_capped', type: 'count', event: 'add_to_cart', cap: { absolute: 3 }, ...common },
  { id: 'revenue_p90', type: 'mean', event: 'purchase', cap: { percentile: 0.9 }, ...common },
  { id: 'revenue_per_cart', type: 'ratio', numerator: 'revenue_p90', denominator: 'carts_capped', ...common },
] as MetricConfig[];

/** Units whose exposure and events fall exactly on hour boundaries: as_of(T) includes timestamp = T. */
function onBoundaries(): TruthUnit[] {
  const at = Math.ceil(START / HOUR) * HOUR + 3 * HOUR;
  const unit = (i: number, variation: string, events: TruthUnit['events']): TruthUnit => ({
    project: PROJECT,
    experiment: EXPERIMENT,
    unit: `${EXPERIMENT}-edge${i}`,
    variation,
    firstExposureAt: at,
    multipleExposure: false,
    events,
  });
  const event = (id: string, name: string, timestamp: number, value: number | null) => ({
    eventId: id,
    event: name,
    timestamp,
    weight: 1,
    value,
  });
  return [
    unit(0, 'control', [
      event('edge0-a', 'purchase', at + 2 * HOUR, 40),
      event('edge0-b', 'purchase', at + 2 * HOUR + 1, 60),
      event('edge0-c', 'add_to_cart', at + 5 * HOUR, null),
    ]),
    unit(1, 'treatment', [
      event('edge1-a', 'add_to_cart', at, null),
      event('edge1-b', 'purchase', at + HOUR, 500),
    ]),
  ];
}

let ch: ClickHouseFixture;
let firstExposure: number;

beforeAll(async () => {
  ch = await openClickHouse(undefined, 'timeseries_query');
  const units = [
    ...generateUnits({
      project: PROJECT,
      experiment: EXPERIMENT,
      arms: ARMS,
      units: 400,
      events: ['purchase', 'add_to_cart'],
      start: START,
      seed: 11,
    }),
    ...onBoundaries(),
  ];
  firstExposure = Math.min(...units.map((u) => u.firstExposureAt));
  // Small inserts: many parts, as a sink leaves them.
  await ch.store(changelogOf(units, 5, ARMS), { rowsPerInsert: 200 });
});

afterAll(async () => {
  await ch?.close();
});

function boundaries(interval: TimeseriesInterval): number[] {
  const built = timeseriesBoundaries(firstExposure, NOW, interval);
  if (built.kind !== 'ok') throw new Error(`too many points: ${built.points}`);
  return built.boundaries;
}

async function series(bounds: number[]): Promise<MetricTimeseriesPoint[]> {
  const outcome = await loadMetricTimeseries(ch.client, {
    project: PROJECT,
    experiment: EXPERIMENT,
    metrics: CATALOGUE,
    catalogue: CATALOGUE,
    boundaries: bounds,
  });
  if (outcome.kind !== 'ok') throw new Error(`time series: ${JSON.stringify(outcome)}`);
  return outcome.points;
}

async function statsAsOf(asOf: number | undefined): Promise<MetricStatsGroup> {
  const outcome = await loadMetricStats(ch.client, {
    project: PROJECT,
    experiment: EXPERIMENT,
    metrics: CATALOGUE,
    catalogue: CATALOGUE,
    asOf,
  });
  if (outcome.kind !== 'ok' || outcome.groups[0] === undefined)
    throw new Error(`stats: ${JSON.stringify(outcome)}`);
  return outcome.groups[0];
}

function expectClose(actual: number | null, expected: number | null, what: string): void {
  if (expected === null || actual === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected) / scale, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9);
}

/** Counts exactly, sums and caps to 1e-9 relative. */
function expectSamePoint(point: MetricTimeseriesPoint, expected: MetricStatsGroup, at: string): void {
  expect(point.units, `${at} units`).toEqual(expected.units);
  expect(point.multipleExposureUnits, `${at} multiple-exposure units`).toBe(expected.multipleExposureUnits);
  expect([...point.metrics.keys()], `${at} metric ids`).toEqual([...expected.metrics.keys()]);
  for (const [id, want] of expected.metrics) {
    const got = point.metrics.get(id) as MetricStats;
    expectClose(got.capValue, want.capValue, `${at} ${id} capValue`);
    expectClose(got.denominatorCapValue, want.denominatorCapValue, `${at} ${id} denominatorCapValue`);
    expect(
      got.variations.map((v) => [v.variation, v.units, v.conversions]),
      `${at} ${id} units and conversions`,
    ).toEqual(want.variations.map((v) => [v.variation, v.units, v.conversions]));
    want.variations.forEach((w, k) => {
      const g = got.variations[k] as (typeof got.variations)[number];
      for (const key of ['sum', 'sumSq', 'denominatorSum', 'denominatorSumSq', 'crossSum'] as const) {
        expectClose(g[key], w[key], `${at} ${id} ${w.variation} ${key}`);
      }
    });
  }
}

describe('loadMetricTimeseries', () => {
  it.each(['day', 'hour'] as const)('equals loadMetricStats as of every %s boundary', async (interval) => {
    const bounds = boundaries(interval);
    const started = performance.now();
    const points = await series(bounds);
    console.log(
      `[timeseries] ${interval}: ${bounds.length} points in ${(performance.now() - started).toFixed(0)} ms`,
    );
    expect(points.map((p) => p.asOf)).toEqual(bounds);
    for (const point of points) {
      expectSamePoint(point, await statsAsOf(point.asOf), new Date(point.asOf).toISOString());
    }
    // The data moves over time: otherwise equal points would prove little.
    const first = points[0]?.metrics.get('revenue_p90');
    const last = points.at(-1)?.metrics.get('revenue_p90');
    expect(first?.capValue, 'percentile cap changes between first and last point').not.toBe(last?.capValue);
  });

  it('ends with now, equal to loadMetricStats without as_of', async () => {
    const points = await series(boundaries('day'));
    const last = points.at(-1) as MetricTimeseriesPoint;
    expect(last.asOf).toBe(NOW);
    expectSamePoint(last, await statsAsOf(undefined), 'now');
  });

  it('issues as many queries for hourly boundaries as for daily ones', async () => {
    const spy = vi.spyOn(ch.client, 'query');
    try {
      await series(boundaries('day'));
      const daily = spy.mock.calls.length;
      spy.mockClear();
      await series(boundaries('hour'));
      const hourly = spy.mock.calls.length;
      expect(boundaries('hour').length).toBeGreaterThan(15 * boundaries('day').length);
      expect(hourly, 'queries for the hourly series').toBe(daily);
      expect(daily, 'queries for a series with a percentile cap').toBe(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses boundaries that are empty, unsorted or too many, before any query', async () => {
    const spy = vi.spyOn(ch.client, 'query');
    try {
      const ask = (bounds: number[]) =>
        loadMetricTimeseries(ch.client, {
          project: PROJECT,
          experiment: EXPERIMENT,
          metrics: CATALOGUE,
          catalogue: CATALOGUE,
          boundaries: bounds,
        });
      await expect(ask([])).rejects.toThrow(RangeError);
      await expect(ask([NOW, NOW])).rejects.toThrow(RangeError);
      await expect(
        ask(Array.from({ length: MAX_TIMESERIES_POINTS + 1 }, (_v, i) => START + i)),
      ).rejects.toThrow(RangeError);
      expect(spy, 'queries issued').not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
