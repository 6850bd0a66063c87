/**
 * The SQL of the results endpoint. Only per-variation sufficient statistics leave ClickHouse; per-unit
 * values are computed inside it by summing the sign column, so retractions cancel their assertions
 * whether or not parts have merged. Every value is a bound parameter ({name:Type}); numbers are cast to
 * Float64 because chDB and the HTTP server disagree on how 64-bit integers look in JSON.
 *
 * Default path (no time window): O(variations), whatever the number of units.
 * - n per variation = Σ sign of the exposure rows of analysed units (projection `per_variation` of
 *   `exposures`): each row identity sums to 0 or 1, so the sum counts live units without grouping by unit;
 * - Σ c_u, Σ x_u, Σ x_u², Σ k_u, Σ k_u² per variation from `variation_metrics`, which the sink maintains
 *   incrementally: each unit's totals are computed from its signed rows (in the sink, per Kafka partition)
 *   and every change of a unit's totals is written as the change of its variation's sums
 *   (services/sink/src/variation-deltas.ts). Units without events add 0, and n already counts them.
 *   The attributed rows carry the unit's variation and exist only for analysed units (the processor
 *   retracts them when that changes), so no join with the assignments is needed.
 * If the two disagree (a variation with more converting units than units: exposure rows not stored yet,
 * or attributed rows the processor no longer corrects after retention), the metric sums are recomputed
 * per unit with an INNER JOIN on the live assignments: events count only for units analysed in that
 * variation now. Cost O(units of the experiment).
 *
 * Time window (`from`/`to`, event time): `variation_metrics` has no timestamps, so per-unit sums are
 * computed from the raw attributed rows in the window (from ≤ timestamp < to), and n counts the units first
 * exposed before `to` (a unit exposed later was not in the experiment yet; one exposed before `from` still
 * counts, with only its events in the window). Cost O(rows of the experiment).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { VariationStats } from '../math/types.ts';
import { assembleVariationStats } from './results-aggregates.ts';
import type { VariationMetricRow, VariationUnitsRow } from './results-aggregates.ts';

export interface ResultsQuery {
  project: string;
  experiment: string;
  /** Metric event name. */
  metric: string;
  /** Event-time window [from, to) in unix ms; either bound may be omitted. */
  from?: number | undefined;
  to?: number | undefined;
}

/** `incremental`: variation_metrics; `per-unit`: raw rows grouped per unit; `joined`: per unit, live units only. */
export type MetricPath = 'incremental' | 'per-unit' | 'joined';

export type ResultsAggregates =
  | {
      kind: 'ok';
      variations: VariationStats[];
      multipleExposureUnits: number;
      /** Which metric query produced the sums: maintained sums, per unit (window), or joined (tables disagreed). */
      path: MetricPath;
    }
  | { kind: 'unknown_experiment' }
  | { kind: 'unknown_metric' }
  | { kind: 'inconsistent'; reason: string };

/**
 * Loads the sufficient statistics of one metric of one experiment of one project.
 * @param knownMetric whether the project defines the metric (catalog event definitions): a defined metric
 *   with no attributed event anywhere is zeros, not unknown
 */
export async function loadResultsAggregates(
  client: ClickHouseClient,
  query: ResultsQuery,
  knownMetric = false,
): Promise<ResultsAggregates> {
  const windowed = query.from !== undefined || query.to !== undefined;
  const path: MetricPath = windowed ? 'per-unit' : 'incremental';
  const [units, names, metrics] = await Promise.all([
    queryVariationUnits(client, query),
    query.to === undefined ? Promise.resolve(null) : queryVariationUnits(client, { ...query, to: undefined }),
    queryMetricSums(client, query, path),
  ]);
  // With `to`, variations exposed only later are still the experiment's (0 units before `to`).
  const allUnits = names === null ? units : [...units, ...names.map((r) => ({ ...r, units: 0 }))];
  if (allUnits.length === 0) return { kind: 'unknown_experiment' };
  if (metrics.length === 0 && !knownMetric && !(await metricSeen(client, query.project, query.metric))) {
    return { kind: 'unknown_metric' };
  }
  const assembled = assembleVariationStats(allUnits, metrics);
  if (assembled.ok) return { kind: 'ok', ...strip(assembled), path };
  const joined = assembleVariationStats(allUnits, await queryMetricSums(client, query, 'joined'));
  if (joined.ok) return { kind: 'ok', ...strip(joined), path: 'joined' };
  return { kind: 'inconsistent', reason: joined.reason };
}

function strip(a: { variations: VariationStats[]; multipleExposureUnits: number }) {
  return { variations: a.variations, multipleExposureUnits: a.multipleExposureUnits };
}

/** Live units per (variation, multiple_exposure); with `to`, only units first exposed before it. */
export async function queryVariationUnits(
  client: ClickHouseClient,
  query: Pick<ResultsQuery, 'project' | 'experiment' | 'to'>,
): Promise<VariationUnitsRow[]> {
  const window = query.to === undefined ? '' : ` AND first_exposure_at < {to:DateTime64(3, 'UTC')}`;
  const rows = await select<{
    variation: string;
    multiple_exposure: boolean | number;
    units: number | string;
  }>(
    client,
    `SELECT variation, multiple_exposure, toFloat64(sum(sign)) AS units
     FROM exposures
     WHERE project = {project:String} AND experiment = {experiment:String}${window}
     GROUP BY variation, multiple_exposure`,
    { project: query.project, experiment: query.experiment, ...timeParams(query) },
  );
  return rows.map((r) => ({
    variation: r.variation,
    multipleExposure: r.multiple_exposure === true || Number(r.multiple_exposure) === 1,
    units: Number(r.units),
  }));
}

/**
 * Per-variation metric sums over units with a live event. `incremental` reads the sums the sink maintains;
 * `per-unit` groups the attributed rows by (variation, unit) (the `per_unit` projection without a window,
 * raw rows with one); `joined` keeps only units whose live assignment is that variation, analysed. Per-unit
 * k and x are summed only where events > 0: a unit whose events were all retracted is exactly 0, not the
 * float dust of w − w.
 */
export async function queryMetricSums(
  client: ClickHouseClient,
  query: ResultsQuery,
  mode: MetricPath,
): Promise<VariationMetricRow[]> {
  const eventWindow =
    (query.from === undefined ? '' : ` AND timestamp >= {from:DateTime64(3, 'UTC')}`) +
    (query.to === undefined ? '' : ` AND timestamp < {to:DateTime64(3, 'UTC')}`);
  const params = {
    project: query.project,
    experiment: query.experiment,
    metric: query.metric,
    ...timeParams(query),
  };
  const outer = `toFloat64(countIf(events > 0)) AS conversions,
       sumIf(x, events > 0) AS sum_value, sumIf(x * x, events > 0) AS sum_value_sq,
       sumIf(k, events > 0) AS sum_count, sumIf(k * k, events > 0) AS sum_count_sq`;
  const perUnit = `SELECT unit AS who, variation AS arm, sum(sign) AS events, sum(sign * weight) AS k,
                          sum(sign * weight * coalesce(value, 0)) AS x
                   FROM attributed
                   WHERE project = {project:String} AND experiment = {experiment:String} AND event = {metric:String}${eventWindow}
                   GROUP BY unit, variation`;
  // Aliases differ from column names: a ClickHouse alias is visible in its whole SELECT and would shadow them.
  let sql: string;
  if (mode === 'incremental') {
    sql = `SELECT variation, toFloat64(sum(conversions)) AS c, sum(sum_value) AS sv, sum(sum_value_sq) AS svq,
                  sum(sum_count) AS sc, sum(sum_count_sq) AS scq
           FROM variation_metrics
           WHERE project = {project:String} AND experiment = {experiment:String} AND event = {metric:String}
           GROUP BY variation`;
  } else if (mode === 'per-unit') {
    sql = `SELECT arm AS variation, ${outer} FROM (${perUnit}) GROUP BY arm`;
  } else {
    sql = `SELECT assigned.arm AS variation, ${outer}
           FROM (
             SELECT unit AS who, variation AS arm
             FROM exposures
             WHERE project = {project:String} AND experiment = {experiment:String}${query.to === undefined ? '' : ` AND first_exposure_at < {to:DateTime64(3, 'UTC')}`}
             GROUP BY unit, variation, multiple_exposure, first_exposure_at
             HAVING sum(sign) > 0 AND multiple_exposure = 0
           ) AS assigned
           INNER JOIN (${perUnit}) AS per_unit ON assigned.who = per_unit.who AND assigned.arm = per_unit.arm
           GROUP BY assigned.arm`;
  }
  const rows = await select<Record<string, number | string>>(client, sql, params);
  const field = (r: Record<string, number | string>, incremental: string, perUnitName: string) =>
    Number(r[mode === 'incremental' ? incremental : perUnitName]);
  return rows.map((r) => ({
    variation: String(r['variation']),
    conversions: field(r, 'c', 'conversions'),
    sumValue: field(r, 'sv', 'sum_value'),
    sumValueSq: field(r, 'svq', 'sum_value_sq'),
    sumCount: field(r, 'sc', 'sum_count'),
    sumCountSq: field(r, 'scq', 'sum_count_sq'),
  }));
}

/** Whether any attributed row of the project, in any experiment, ever named this event. */
export async function metricSeen(
  client: ClickHouseClient,
  project: string,
  metric: string,
): Promise<boolean> {
  const rows = await select<{ seen: number }>(
    client,
    'SELECT 1 AS seen FROM attributed WHERE project = {project:String} AND event = {metric:String} LIMIT 1',
    { project, metric },
  );
  return rows.length > 0;
}

/** Unix ms → the text DateTime64(3) parameters take, UTC. */
export function dateTime64Param(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function timeParams(query: { from?: number | undefined; to?: number | undefined }): Record<string, string> {
  const params: Record<string, string> = {};
  if (query.from !== undefined) params['from'] = dateTime64Param(query.from);
  if (query.to !== undefined) params['to'] = dateTime64Param(query.to);
  return params;
}

async function select<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
