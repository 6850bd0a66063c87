/**
 * A metric time series of one experiment: at each boundary T_i, what loadMetricStats gives with asOf = T_i
 * (docs/semantics.md, "Results over time"), from at most three queries run together whatever the number of
 * boundaries: the units' changes, the metrics' changes, and (only when a metric has a percentile cap) the
 * per-boundary quantiles and capped sums. The changes are summed over the boundaries here. SQL and costs in
 * timeseries-query-sql.ts.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { MetricStats } from '../math/metric-stats.ts';
import { assembleGroups, baseMetricsOf } from './metric-query.ts';
import type { BaseMetric, BuiltSql } from './metric-query-sql.ts';
import { MAX_TIMESERIES_POINTS } from './timeseries-boundaries.ts';
import {
  expandedPairs,
  metricDeltasSql,
  percentileOf,
  percentileSumsSql,
  unitDeltasSql,
} from './timeseries-query-sql.ts';
import type { TimeseriesSqlScope } from './timeseries-query-sql.ts';

export interface MetricTimeseriesQuery {
  project: string;
  experiment: string;
  /** The metrics to compute (ratios' operands are looked up in `catalogue`). */
  metrics: readonly MetricConfig[];
  catalogue: readonly MetricConfig[];
  /** Strictly ascending unix ms, at most MAX_TIMESERIES_POINTS (see timeseriesBoundaries). */
  boundaries: readonly number[];
}

/** The figures as of one boundary: those of loadMetricStats({ asOf }) without a dimension. */
export interface MetricTimeseriesPoint {
  /** The boundary T, unix ms: exposures and events with timestamp ≤ T. */
  asOf: number;
  /** Analysed units per variation exposed by T, sorted by variation (empty before any exposure). */
  units: { variation: string; units: number }[];
  multipleExposureUnits: number;
  /** Per requested metric id. */
  metrics: Map<string, MetricStats>;
}

export type MetricTimeseriesOutcome =
  | { kind: 'ok'; points: MetricTimeseriesPoint[] }
  | { kind: 'unknown_experiment' }
  /** The queries saw different moments of the tables (a sink insert in between); the caller answers "retry". */
  | { kind: 'inconsistent'; reason: string };

type Row = Record<string, number | string | boolean | null>;

/**
 * Throws on boundaries that are empty, unsorted, not integers or more than MAX_TIMESERIES_POINTS: the caller
 * builds them with timeseriesBoundaries, so any of these is a bug, not a request to answer.
 */
export async function loadMetricTimeseries(
  client: ClickHouseClient,
  query: MetricTimeseriesQuery,
): Promise<MetricTimeseriesOutcome> {
  checkBoundaries(query.boundaries);
  const { base, ratioPairs } = baseMetricsOf(query.metrics, query.catalogue);
  const scope: TimeseriesSqlScope = {
    project: query.project,
    experiment: query.experiment,
    boundaries: query.boundaries,
  };
  const hasPercentile = base.some((m) => percentileOf(m) !== null);
  const [unitRows, deltaRows, percentileRows] = await Promise.all([
    select(client, unitDeltasSql(scope)),
    base.length === 0 ? Promise.resolve([]) : select(client, metricDeltasSql(base, ratioPairs, scope)),
    hasPercentile ? select(client, percentileSumsSql(base, ratioPairs, scope)) : Promise.resolve([]),
  ]);
  if (unitRows.length === 0) return { kind: 'unknown_experiment' };
  return assemblePoints({ query, base, ratioPairs, unitRows, deltaRows, percentileRows });
}

function checkBoundaries(boundaries: readonly number[]): void {
  if (boundaries.length === 0 || boundaries.length > MAX_TIMESERIES_POINTS) {
    throw new RangeError(
      `a time series has 1 to ${MAX_TIMESERIES_POINTS} boundaries, got ${boundaries.length}`,
    );
  }
  boundaries.forEach((t, i) => {
    if (!Number.isSafeInteger(t) || (i > 0 && t <= (boundaries[i - 1] as number))) {
      throw new RangeError(`boundaries must be strictly ascending integer unix ms (at index ${i}: ${t})`);
    }
  });
}

interface AssembleInput {
  query: MetricTimeseriesQuery;
  base: readonly BaseMetric[];
  ratioPairs: readonly (readonly [number, number])[];
  /** unitDeltasSql rows. */
  unitRows: readonly Row[];
  /** metricDeltasSql rows. */
  deltaRows: readonly Row[];
  /** percentileSumsSql rows. */
  percentileRows: readonly Row[];
}

/**
 * Pure: query rows → points. Sums the changes over idx ≤ i, overlays the percentile path's per-boundary
 * values, and hands each boundary to assembleGroups so a point is built exactly as loadMetricStats builds
 * its answer (same variations, same refusal of more conversions than units).
 */
export function assemblePoints(input: AssembleInput): MetricTimeseriesOutcome {
  const { base, ratioPairs } = input;
  const percentile = base.flatMap((m, i) => (percentileOf(m) === null ? [] : [i]));
  const expanded = new Set(expandedPairs(base, ratioPairs));
  // Keys summed from the delta rows; the others come from the percentile rows as they are.
  const deltaKeys = [
    ...base.flatMap((m, i) => (percentileOf(m) === null ? [`c${i}`, `s${i}`, `q${i}`] : [`c${i}`])),
    ...ratioPairs.flatMap((_p, j) => (expanded.has(j) ? [] : [`x${j}`])),
  ];
  const percentileKeys = [
    ...percentile.flatMap((i) => [`s${i}`, `q${i}`]),
    ...[...expanded].map((j) => `x${j}`),
  ];

  const unitsAt = byIdx(input.unitRows);
  const deltasAt = byIdx(input.deltaRows);
  const percentileAt = byIdx(input.percentileRows);
  const units = new Map<string, { variation: string; multiple_exposure: boolean; units: number }>();
  const sums = new Map<string, Record<string, number>>();
  const points: MetricTimeseriesPoint[] = [];

  for (const [idx, asOf] of input.query.boundaries.entries()) {
    for (const row of unitsAt.get(idx) ?? []) {
      const multiple = row['multiple_exposure'] === true || Number(row['multiple_exposure']) === 1;
      const key = `${String(row['variation'])}\u0000${multiple}`;
      const held = units.get(key) ?? {
        variation: String(row['variation']),
        multiple_exposure: multiple,
        units: 0,
      };
      held.units += Number(row['units']);
      units.set(key, held);
    }
    for (const row of deltasAt.get(idx) ?? []) {
      const held = sums.get(String(row['arm'])) ?? Object.fromEntries(deltaKeys.map((k) => [k, 0]));
      for (const k of deltaKeys) held[k] = (held[k] as number) + Number(row[k]);
      sums.set(String(row['arm']), held);
    }
    const here = new Map((percentileAt.get(idx) ?? []).map((r) => [String(r['arm']), r]));
    const arms = new Set([...sums.keys(), ...here.keys()]);
    const sumRows = [...arms].map((arm) => {
      const row: Record<string, number | string> = { dv: '', arm };
      const held = sums.get(arm);
      for (const k of deltaKeys) row[k] = held?.[k] ?? 0;
      const p = here.get(arm);
      for (const k of percentileKeys) row[k] = p === undefined ? 0 : Number(p[k]);
      return row;
    });
    const anyPercentileRow = here.values().next().value;
    const caps = base.map((m, i): number | null => {
      if (m.cap !== undefined && 'absolute' in m.cap) return m.cap.absolute;
      if (percentileOf(m) === null || anyPercentileRow === undefined) return null;
      // No unit with a positive value: nothing to cap (the quantile of nothing is nan).
      const q = Number(anyPercentileRow[`cap${i}`]);
      return Number(anyPercentileRow[`pos${i}`]) > 0 && Number.isFinite(q) ? q : null;
    });
    const outcome = assembleGroups({
      query: input.query,
      base,
      ratioPairs,
      caps,
      unitRows: [...units.values()].map((u) => ({ dv: '', ...u })),
      sumRows,
      broken: false,
    });
    if (outcome.kind !== 'ok') {
      return outcome.kind === 'inconsistent'
        ? { kind: 'inconsistent', reason: `as of ${new Date(asOf).toISOString()}: ${outcome.reason}` }
        : outcome;
    }
    const group = outcome.groups[0];
    if (group === undefined) throw new Error('assembleGroups returned no group without a dimension');
    points.push({
      asOf,
      units: group.units,
      multipleExposureUnits: group.multipleExposureUnits,
      metrics: group.metrics,
    });
  }
  return { kind: 'ok', points };
}

function byIdx(rows: readonly Row[]): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  for (const row of rows) {
    const idx = Number(row['idx']);
    const list = out.get(idx);
    if (list === undefined) out.set(idx, [row]);
    else list.push(row);
  }
  return out;
}

async function select(client: ClickHouseClient, built: BuiltSql): Promise<Row[]> {
  const result = await client.query({ query: built.sql, query_params: built.params, format: 'JSONEachRow' });
  return result.json<Row>();
}
