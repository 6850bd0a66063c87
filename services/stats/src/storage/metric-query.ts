/**
 * Loads the sufficient statistics of several catalogue metrics of one experiment: per variation, and per
 * dimension value when asked, optionally as of a time T. At most three round trips whatever the number of
 * metrics: the dimension's values (only for a breakdown), the quantiles of percentile caps (only when a
 * metric has one), then the units and the metric sums together. SQL in metric-query-sql.ts.
 *
 * Cost bound (what no catalogue can exceed): one scan of the experiment's exposure rows per query and one of
 * its attributed rows of the requested events, joined on unit; the number of metrics only adds columns
 * (at most MAX_METRICS_PER_SET goal + guardrail metrics, ratio operands included, per request).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { MetricStats, MetricVariationStats } from '../math/metric-stats.ts';
import {
  cupedIndexes,
  dimensionValuesSql,
  metricSumsSql,
  NONE_VALUE,
  OTHER_VALUE,
  perUnitShapeFor,
  quantileShapeFor,
  quantileSql,
  unitsSql,
} from './metric-query-sql.ts';
import type { BaseMetric, BuiltSql, MetricSqlScope, PerUnitShape } from './metric-query-sql.ts';

/** Values of a dimension shown on their own; the rest pool as '(other)' (docs/semantics.md). */
export const MAX_DIMENSION_VALUES = 20;

export interface MetricStatsQuery {
  project: string;
  experiment: string;
  /** The metrics to compute (ratios' operands are looked up in `catalogue`). */
  metrics: readonly MetricConfig[];
  catalogue: readonly MetricConfig[];
  asOf?: number | undefined;
  dimension?: string | undefined;
}

/** One block of figures: the whole experiment, or one dimension value. */
export interface MetricStatsGroup {
  /** The dimension value ('(none)', '(other)' included), or null without a breakdown. */
  value: string | null;
  /** Analysed units per variation, sorted by variation (0 included). */
  units: { variation: string; units: number }[];
  multipleExposureUnits: number;
  /** Per requested metric id. */
  metrics: Map<string, MetricStats>;
}

export type MetricStatsOutcome =
  | { kind: 'ok'; groups: MetricStatsGroup[] }
  | { kind: 'unknown_experiment' }
  | { kind: 'inconsistent'; reason: string };

export async function loadMetricStats(
  client: ClickHouseClient,
  query: MetricStatsQuery,
): Promise<MetricStatsOutcome> {
  const { base, ratioPairs } = baseMetricsOf(query.metrics, query.catalogue);
  let scope: MetricSqlScope = { project: query.project, experiment: query.experiment, asOf: query.asOf };
  if (query.dimension !== undefined) {
    const values = await select<{ value: string; units: number | string }>(
      client,
      dimensionValuesSql(scope, query.dimension),
    );
    scope = { ...scope, dimension: { name: query.dimension, topValues: topValues(values) } };
  }
  const first = await loadWith(client, query, base, ratioPairs, scope, perUnitShapeFor(base, scope));
  if (first.kind !== 'inconsistent' || perUnitShapeFor(base, scope) === 'joined') return first;
  // The projected shape trusts attributed rows to belong to live analysed units; they disagree: join.
  return loadWith(client, query, base, ratioPairs, scope, 'joined');
}

async function loadWith(
  client: ClickHouseClient,
  query: MetricStatsQuery,
  base: readonly BaseMetric[],
  ratioPairs: readonly (readonly [number, number])[],
  scope: MetricSqlScope,
  shape: PerUnitShape,
): Promise<MetricStatsOutcome> {
  // The request's own shape is projected unless a window, breakdown or as_of needs the join: a joined
  // shape where it would be projected is the rerun after the tables disagreed, and the caps join too.
  const forceJoin = shape === 'joined' && perUnitShapeFor(base, scope) === 'projected';
  const caps = await capsOf(client, base, scope, forceJoin);
  const [unitRows, sumRows] = await Promise.all([
    select<{ dv: string; variation: string; multiple_exposure: boolean | number; units: number | string }>(
      client,
      unitsSql(scope),
    ),
    base.length === 0
      ? Promise.resolve([])
      : select<Record<string, number | string>>(client, metricSumsSql(base, caps, ratioPairs, scope, shape)),
  ]);
  if (unitRows.length === 0) return { kind: 'unknown_experiment' };
  return assembleGroups({
    query,
    base,
    ratioPairs,
    caps,
    unitRows,
    sumRows,
    broken: query.dimension !== undefined,
  });
}

/** The distinct non-ratio metrics needed (requested ones and ratio operands) and each ratio's indexes. */
export function baseMetricsOf(
  metrics: readonly MetricConfig[],
  catalogue: readonly MetricConfig[],
): { base: BaseMetric[]; ratioPairs: [number, number][]; ratioIndex: Map<string, number> } {
  const base: BaseMetric[] = [];
  // A CUPED covariate is computed only for metrics asked for themselves: a ratio takes no CUPED, so an
  // operand that is only there for a ratio is read without its `cuped` (no covariate columns to compute).
  const asked = new Set(metrics.map((m) => m.id));
  const indexOf = (metric: MetricConfig): number => {
    const known = base.findIndex((b) => b.id === metric.id);
    if (known >= 0) return known;
    if (metric.type === 'ratio' || metric.event === undefined)
      throw new Error(`metric "${metric.id}" is not a base metric`);
    const { cuped: _cuped, ...withoutCuped } = metric;
    base.push((asked.has(metric.id) ? metric : withoutCuped) as BaseMetric);
    return base.length - 1;
  };
  const byId = new Map(catalogue.map((m) => [m.id, m]));
  const ratioPairs: [number, number][] = [];
  const ratioIndex = new Map<string, number>();
  for (const metric of metrics) {
    if (metric.type !== 'ratio') {
      indexOf(metric);
      continue;
    }
    const operand = (id: string | undefined): MetricConfig => {
      const found = id === undefined ? undefined : byId.get(id);
      if (found === undefined) throw new Error(`ratio "${metric.id}" names an undefined metric "${id}"`);
      return found;
    };
    ratioIndex.set(metric.id, ratioPairs.length);
    ratioPairs.push([indexOf(operand(metric.numerator)), indexOf(operand(metric.denominator))]);
  }
  return { base, ratioPairs, ratioIndex };
}

/** The caps to apply per base metric: absolute ones as given, percentile ones from one quantile query. */
async function capsOf(
  client: ClickHouseClient,
  base: readonly BaseMetric[],
  scope: MetricSqlScope,
  forceJoin: boolean,
): Promise<(number | null)[]> {
  const caps: (number | null)[] = base.map((m) =>
    m.cap !== undefined && 'absolute' in m.cap ? m.cap.absolute : null,
  );
  const percentile = base.flatMap((m, i) => (m.cap !== undefined && 'percentile' in m.cap ? [i] : []));
  if (percentile.length === 0) return caps;
  const [row] = await select<Record<string, number | string | null>>(
    client,
    quantileSql(base, percentile, scope, quantileShapeFor(base, percentile, scope, forceJoin)),
  );
  for (const i of percentile) {
    const positive = Number(row?.[`n${i}`] ?? 0);
    const q = row?.[`q${i}`];
    // No unit with a positive value: nothing to cap (ClickHouse answers nan there).
    caps[i] = positive > 0 && q !== null && q !== undefined && Number.isFinite(Number(q)) ? Number(q) : null;
  }
  return caps;
}

/** The dimension values shown: the MAX_DIMENSION_VALUES with most analysed units, ties by name. */
export function topValues(rows: readonly { value: string; units: number | string }[]): string[] {
  return [...rows]
    .map((r) => ({ value: r.value, units: Number(r.units) }))
    .sort((a, b) => b.units - a.units || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, MAX_DIMENSION_VALUES)
    .map((r) => r.value);
}

interface AssembleInput {
  query: MetricStatsQuery;
  base: readonly BaseMetric[];
  ratioPairs: readonly (readonly [number, number])[];
  caps: readonly (number | null)[];
  unitRows: readonly {
    dv: string;
    variation: string;
    multiple_exposure: boolean | number;
    units: number | string;
  }[];
  sumRows: readonly Record<string, number | string>[];
  broken: boolean;
}

/**
 * Pure: query rows → groups. Every variation named by an exposure row of the experiment appears in every
 * group (0 units where it has none). Refused when a variation has more converting units than units: the two
 * queries saw different moments of the tables (a sink insert in between); the caller answers "retry".
 */
export function assembleGroups(input: AssembleInput): MetricStatsOutcome {
  const variations = [...new Set(input.unitRows.map((r) => r.variation))].sort(compareNames);
  const values = input.broken ? orderValues(input.unitRows) : [''];
  const { ratioIndex } = baseMetricsOf(input.query.metrics, input.query.catalogue);
  const cuped = new Set(cupedIndexes(input.base));
  const groups: MetricStatsGroup[] = [];
  for (const dv of values) {
    const units = new Map(variations.map((v) => [v, 0]));
    let multipleExposureUnits = 0;
    for (const row of input.unitRows) {
      if (row.dv !== dv) continue;
      const count = Math.max(0, Math.round(Number(row.units)));
      if (row.multiple_exposure === true || Number(row.multiple_exposure) === 1)
        multipleExposureUnits += count;
      else units.set(row.variation, (units.get(row.variation) ?? 0) + count);
    }
    const sums = new Map(input.sumRows.filter((r) => r['dv'] === dv).map((r) => [String(r['arm']), r]));
    const metrics = new Map<string, MetricStats>();
    for (const metric of input.query.metrics) {
      const pair =
        metric.type === 'ratio' ? input.ratioPairs[ratioIndex.get(metric.id) as number] : undefined;
      const n = pair === undefined ? input.base.findIndex((b) => b.id === metric.id) : pair[0];
      const d = pair?.[1];
      const stats: MetricVariationStats[] = variations.map((variation) => {
        const row = sums.get(variation);
        const num = (key: string): number => (row === undefined ? 0 : Number(row[key]));
        return {
          variation,
          units: units.get(variation) ?? 0,
          conversions: Math.round(num(`c${n}`)),
          sum: num(`s${n}`),
          sumSq: num(`q${n}`),
          denominatorSum: d === undefined ? 0 : num(`s${d}`),
          denominatorSumSq: d === undefined ? 0 : num(`q${d}`),
          crossSum: pair === undefined ? 0 : num(`x${ratioIndex.get(metric.id) as number}`),
          ...(pair === undefined && cuped.has(n)
            ? { covariate: { sum: num(`sy${n}`), sumSq: num(`syy${n}`), crossSum: num(`sxy${n}`) } }
            : {}),
        };
      });
      const bad = stats.find((s) => s.conversions > s.units);
      if (bad !== undefined) {
        return {
          kind: 'inconsistent',
          reason: `variation "${bad.variation}" has ${bad.conversions} converting units but ${bad.units} units`,
        };
      }
      metrics.set(metric.id, {
        variations: stats,
        capValue: input.caps[n] ?? null,
        denominatorCapValue: d === undefined ? null : (input.caps[d] ?? null),
      });
    }
    groups.push({
      value: input.broken ? dv : null,
      units: variations.map((v) => ({ variation: v, units: units.get(v) ?? 0 })),
      multipleExposureUnits,
      metrics,
    });
  }
  return { kind: 'ok', groups };
}

/** Dimension values by analysed units, descending, then name; '(other)' last. */
function orderValues(rows: AssembleInput['unitRows']): string[] {
  const totals = new Map<string, number>();
  for (const r of rows) {
    const analysed = r.multiple_exposure === true || Number(r.multiple_exposure) === 1 ? 0 : Number(r.units);
    totals.set(r.dv, (totals.get(r.dv) ?? 0) + analysed);
  }
  const rank = (v: string) => (v === OTHER_VALUE ? 1 : 0);
  return [...totals.keys()].sort(
    (a, b) => rank(a) - rank(b) || (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || compareNames(a, b),
  );
}

/** Code-point order, the same in every locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function select<T>(client: ClickHouseClient, built: BuiltSql): Promise<T[]> {
  const result = await client.query({ query: built.sql, query_params: built.params, format: 'JSONEachRow' });
  return result.json<T>();
}

export { NONE_VALUE, OTHER_VALUE };
