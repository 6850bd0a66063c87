/**
 * The SQL of catalogue metrics (windows, caps, ratios, dimensions, as_of), built from the metric
 * definitions. Pure: it returns text and parameters, so the shape is unit-tested without ClickHouse.
 *
 * One pass per request, whatever the number of metrics: the experiment's attributed rows of every event the
 * requested metrics need are joined once with the live assignments (to know each unit's first exposure, for
 * windows, and to count only units analysed in that variation now), grouped per unit with one conditional
 * sum per base metric, and aggregated per variation (and dimension value). Percentile caps need the
 * quantile first: one more pass over the capped metrics' per-unit values (`quantileSql`).
 *
 * Numbers: event values are summed per unit in ClickHouse; a unit whose events were all retracted has
 * events = 0 and counts as exactly 0 (not the float dust of w − w).
 */
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import { dateTime64Param } from './results-query.ts';

/** A metric measured per unit from events: conversion, mean or count (ratio operands are these). */
export type BaseMetric = MetricConfig & { type: 'conversion' | 'mean' | 'count'; event: string };

export interface MetricSqlScope {
  project: string;
  experiment: string;
  /** as_of(T): exposures and events with timestamp ≤ T, unix ms. */
  asOf?: number | undefined;
  /** Break down by this dimension; values outside `topValues` pool as '(other)'. */
  dimension?: { name: string; topValues: readonly string[] } | undefined;
}

export interface BuiltSql {
  sql: string;
  params: Record<string, unknown>;
}

const HOUR_MS = 3_600_000;

/** The value of a dimension on an exposure row: the map's entry, or '(none)' when the unit had none. */
export const NONE_VALUE = '(none)';
export const OTHER_VALUE = '(other)';

function scopeParams(scope: MetricSqlScope): Record<string, unknown> {
  const params: Record<string, unknown> = { project: scope.project, experiment: scope.experiment };
  if (scope.asOf !== undefined) params['as_of'] = dateTime64Param(scope.asOf);
  if (scope.dimension !== undefined) {
    params['dim'] = scope.dimension.name;
    params['top'] = [...scope.dimension.topValues];
  }
  return params;
}

/** The dimension value of an exposure row, pooled: a top value, '(other)' or '(none)'. */
function dimensionValueSql(scope: MetricSqlScope): string {
  if (scope.dimension === undefined) return `''`;
  const raw = `if(mapContains(dimensions, {dim:String}), dimensions[{dim:String}], '${NONE_VALUE}')`;
  return `if(has({top:Array(String)}, ${raw}), ${raw}, '${OTHER_VALUE}')`;
}

/**
 * Live analysed assignments: each exposure row identity sums to 0 or 1, so groups with Σ sign > 0 are the
 * units' current rows. With as_of, only units first exposed at or before T.
 */
function assignedSql(scope: MetricSqlScope): string {
  const asOf = scope.asOf === undefined ? '' : ` AND first_exposure_at <= {as_of:DateTime64(3, 'UTC')}`;
  return `SELECT unit AS who, variation AS arm, first_exposure_at AS fx, ${dimensionValueSql(scope)} AS dv
          FROM exposures
          WHERE project = {project:String} AND experiment = {experiment:String}${asOf}
          GROUP BY unit, variation, multiple_exposure, first_exposure_at, dv
          HAVING sum(sign) > 0 AND multiple_exposure = 0`;
}

/** The condition an attributed row `t` (joined with its assignment `a`) must meet to count for base metric i. */
export function countsSql(metric: BaseMetric, i: number, params: Record<string, unknown>): string {
  params[`ev${i}`] = metric.event;
  let condition = `t.event = {ev${i}:String}`;
  if (metric.window !== undefined) {
    const start = Math.round(metric.window.delay_hours * HOUR_MS);
    params[`ws${i}`] = start;
    params[`we${i}`] = start + Math.round(metric.window.hours * HOUR_MS);
    const offset = 'toUnixTimestamp64Milli(t.timestamp) - toUnixTimestamp64Milli(a.fx)';
    condition += ` AND ${offset} >= {ws${i}:Int64} AND ${offset} < {we${i}:Int64}`;
  }
  return condition;
}

/** What an attributed row adds to the unit's value of base metric i: w·value (mean) or w (count, conversion). */
export function amountSql(metric: BaseMetric): string {
  return metric.type === 'mean' ? 't.sign * t.weight * coalesce(t.value, 0)' : 't.sign * t.weight';
}

/**
 * Per unit: for each base metric i, e{i} = Σ sign of its counted rows (live events) and r{i} = its uncapped
 * value (x_u or k_u). Only events the metrics name are read. Two shapes:
 * - `joined` (a window, a dimension or as_of): raw attributed rows joined with the live assignments, which
 *   give the first exposure (windows), the dimension value, and keep only units analysed in that variation
 *   now. O(attributed rows of those events + exposure rows).
 * - `projected` (none of those): the `per_unit` projection's per (unit, variation, event) sums, no join:
 *   attributed rows carry the unit's variation and exist only for analysed units (the processor retracts
 *   them otherwise), as the event results' default path relies on. O(units with those events). When the
 *   tables disagree (more converting units than units) the caller reruns with `joined`.
 */
export type PerUnitShape = 'joined' | 'projected';

export function perUnitShapeFor(metrics: readonly BaseMetric[], scope: MetricSqlScope): PerUnitShape {
  const needsJoin =
    scope.asOf !== undefined || scope.dimension !== undefined || metrics.some((m) => m.window !== undefined);
  return needsJoin ? 'joined' : 'projected';
}

/** Base metric indexes whose covariate (CUPED) is computed: mean and count metrics with `cuped`. */
export function cupedIndexes(metrics: readonly BaseMetric[]): number[] {
  return metrics.flatMap((m, i) => (m.cuped !== undefined && m.type !== 'conversion' ? [i] : []));
}

/**
 * Per unit, with the CUPED covariates when a metric has `cuped`: the attributed per-unit rows (below) and the
 * covariate per-unit rows (`covariatePerUnitSql`) side by side, re-grouped per unit, so a unit with only
 * pre-exposure events (v = 0, y > 0) is there too. Adds ye{i} (live covariate rows) and y{i} (Σ amount) for
 * each CUPED metric i. Without CUPED metrics it is exactly the attributed per-unit query. In the joined shape
 * the two kinds of rows go through one join instead (`joinedWithCovariatesSql`).
 */
function perUnitSql(
  metrics: readonly BaseMetric[],
  scope: MetricSqlScope,
  params: Record<string, unknown>,
  shape: PerUnitShape,
  withCovariates = true,
): string {
  const cuped = withCovariates ? cupedIndexes(metrics) : [];
  if (cuped.length > 0 && shape === 'joined') return joinedWithCovariatesSql(metrics, cuped, scope, params);
  const attributed = attributedPerUnitSql(metrics, scope, params, shape);
  if (cuped.length === 0) return attributed;
  const zeros = (names: string[]) => names.map((n) => `0. AS ${n}`).join(', ');
  const covariateNames = cuped.flatMap((i) => [`ye${i}`, `y${i}`]);
  const metricNames = metrics.flatMap((_m, i) => [`e${i}`, `r${i}`]);
  const all = [...metricNames, ...covariateNames];
  return `SELECT who, arm, any(dv) AS dv, ${all.map((n) => `sum(${n}) AS ${n}`).join(', ')}
          FROM (
            SELECT who, arm, dv, ${metricNames.map((n) => `toFloat64(${n}) AS ${n}`).join(', ')}, ${zeros(covariateNames)}
            FROM (${attributed})
            UNION ALL
            SELECT who, arm, dv, ${zeros(metricNames)}, ${covariateNames.join(', ')}
            FROM (${covariatePerUnitSql(metrics, cuped, scope, params)})
          )
          GROUP BY who, arm`;
}

/**
 * Per unit, for each CUPED metric i: ye{i} = Σ sign and y{i} = Σ amount of its live covariate rows with
 * `first_exposure_at − days ≤ timestamp` (rows are only written for timestamp < first_exposure_at, by the
 * processor, with the longest lookback among the project's metrics on that event; each metric applies its
 * own here). The covariate is not capped: the metric's cap is defined on the post-exposure value x_u.
 * Always joined with the live analysed assignments, on unit, variation AND first exposure, whatever the
 * attributed rows' shape: pre-exposure tracks are a unit's oldest, the first the processor evicts, and an
 * evicted track's rows are never retracted (retention.ts), so after a later merge, multiple exposure or
 * earlier first exposure such a row outlives the assignment it was derived against. The join drops it.
 * This query serves the projected shape (its join costs one grouping of the exposure rows); the joined
 * shape applies the same condition in its own join (`joinedWithCovariatesSql`).
 */
function covariatePerUnitSql(
  metrics: readonly BaseMetric[],
  cuped: readonly number[],
  scope: MetricSqlScope,
  params: Record<string, unknown>,
): string {
  const columns = covariateColumnsSql(metrics, cuped, params, {
    row: 'c',
    firstExposure: 'c.first_exposure_at',
  });
  return `SELECT c.unit AS who, a.arm AS arm, any(a.dv) AS dv, ${columns}
          FROM covariates AS c
          INNER JOIN (${assignedSql(scope)}) AS a
            ON c.unit = a.who AND c.variation = a.arm AND c.first_exposure_at = a.fx
          WHERE c.project = {project:String} AND c.experiment = {experiment:String}
            AND has({cevents:Array(String)}, c.event)
          GROUP BY c.unit, a.arm`;
}

/**
 * ye{i} and y{i} of each CUPED metric i over covariate rows `row` (see covariatePerUnitSql), `condition`
 * added to each metric's; sets the parameters they use, `cevents` included.
 */
function covariateColumnsSql(
  metrics: readonly BaseMetric[],
  cuped: readonly number[],
  params: Record<string, unknown>,
  on: { row: string; firstExposure: string; condition?: string },
): string {
  const columns = cuped.map((i) => {
    const metric = metrics[i] as BaseMetric;
    params[`cev${i}`] = metric.event;
    params[`cms${i}`] = Math.round((metric.cuped?.days ?? 0) * 24 * HOUR_MS);
    const condition =
      (on.condition === undefined ? '' : `${on.condition} AND `) +
      `${on.row}.event = {cev${i}:String} AND ` +
      `toUnixTimestamp64Milli(${on.row}.timestamp) >= toUnixTimestamp64Milli(${on.firstExposure}) - {cms${i}:Int64}`;
    const amount =
      metric.type === 'mean'
        ? `${on.row}.sign * ${on.row}.weight * coalesce(${on.row}.value, 0)`
        : `${on.row}.sign * ${on.row}.weight`;
    return `toFloat64(sumIf(${on.row}.sign, ${condition})) AS ye${i}, toFloat64(sumIf(${amount}, ${condition})) AS y${i}`;
  });
  params['cevents'] = [...new Set(cuped.map((i) => (metrics[i] as BaseMetric).event))];
  return columns.join(', ');
}

/**
 * The joined per-unit query with CUPED covariates: the requested events' attributed rows and the covariate
 * rows, tagged (cov = 0 / 1), go through ONE join with the live analysed assignments, where the two
 * per-unit queries unioned above each grouped the experiment's exposures and joined (at 1M units the
 * second grouping and join cost ~0.5 s; bench/RESULTS.md, issue 16). Same columns and the same meaning:
 * an attributed row counts as in attributedPerUnitSql (windows against the assignment's first exposure,
 * as_of on its timestamp), a covariate row only if derived against the live first exposure (cfx = a.fx,
 * the other query's join condition) and within its metric's lookback. A unit with only covariate rows is
 * grouped all the same.
 */
function joinedWithCovariatesSql(
  metrics: readonly BaseMetric[],
  cuped: readonly number[],
  scope: MetricSqlScope,
  params: Record<string, unknown>,
): string {
  params['events'] = [...new Set(metrics.map((m) => m.event))];
  const asOf = scope.asOf === undefined ? '' : ` AND timestamp <= {as_of:DateTime64(3, 'UTC')}`;
  const attributedColumns = metrics.map((m, i) => {
    const counts = `t.cov = 0 AND ${countsSql(m, i, params)}`;
    return `toFloat64(sumIf(t.sign, ${counts})) AS e${i}, toFloat64(sumIf(${amountSql(m)}, ${counts})) AS r${i}`;
  });
  const covariateColumns = covariateColumnsSql(metrics, cuped, params, {
    row: 't',
    firstExposure: 't.cfx',
    condition: 't.cov = 1 AND t.cfx = a.fx',
  });
  return `SELECT t.unit AS who, a.arm AS arm, any(a.dv) AS dv, ${attributedColumns.join(', ')}, ${covariateColumns}
          FROM (
            SELECT unit, variation, event, timestamp, sign, weight, value, 0 AS cov,
                   toDateTime64(0, 3, 'UTC') AS cfx
            FROM attributed
            WHERE project = {project:String} AND experiment = {experiment:String}
              AND has({events:Array(String)}, event)${asOf}
            UNION ALL
            SELECT unit, variation, event, timestamp, sign, weight, value, 1 AS cov, first_exposure_at AS cfx
            FROM covariates
            WHERE project = {project:String} AND experiment = {experiment:String}
              AND has({cevents:Array(String)}, event)
          ) AS t
          INNER JOIN (${assignedSql(scope)}) AS a ON t.unit = a.who AND t.variation = a.arm
          GROUP BY t.unit, a.arm`;
}

function attributedPerUnitSql(
  metrics: readonly BaseMetric[],
  scope: MetricSqlScope,
  params: Record<string, unknown>,
  shape: PerUnitShape,
): string {
  const events = [...new Set(metrics.map((m) => m.event))];
  params['events'] = events;
  if (shape === 'projected') {
    const columns = metrics.map((m, i) => {
      params[`ev${i}`] = m.event;
      const amount = m.type === 'mean' ? 'x' : 'k';
      return `sumIf(events, event = {ev${i}:String}) AS e${i}, sumIf(${amount}, event = {ev${i}:String}) AS r${i}`;
    });
    // The inner GROUP BY and aggregates are the per_unit projection's, so ClickHouse reads the projection.
    return `SELECT who, arm, '' AS dv, ${columns.join(', ')}
            FROM (
              SELECT unit AS who, variation AS arm, event, sum(sign) AS events, sum(sign * weight) AS k,
                     sum(sign * weight * coalesce(value, 0)) AS x
              FROM attributed
              WHERE project = {project:String} AND experiment = {experiment:String} AND has({events:Array(String)}, event)
              GROUP BY unit, variation, event
            )
            GROUP BY who, arm`;
  }
  const asOf = scope.asOf === undefined ? '' : ` AND t.timestamp <= {as_of:DateTime64(3, 'UTC')}`;
  const columns = metrics.map((m, i) => {
    const counts = countsSql(m, i, params);
    return `sumIf(t.sign, ${counts}) AS e${i}, sumIf(${amountSql(m)}, ${counts}) AS r${i}`;
  });
  return `SELECT t.unit AS who, a.arm AS arm, any(a.dv) AS dv, ${columns.join(', ')}
          FROM attributed AS t
          INNER JOIN (${assignedSql(scope)}) AS a ON t.unit = a.who AND t.variation = a.arm
          WHERE t.project = {project:String} AND t.experiment = {experiment:String}
            AND has({events:Array(String)}, t.event)${asOf}
          GROUP BY t.unit, a.arm`;
}

/** The unit's value of a base metric from its totals (live events e, amount r), before any cap. */
export function uncappedSql(metric: BaseMetric, e: string, r: string): string {
  return metric.type === 'conversion' ? `toFloat64(${e} > 0)` : `if(${e} > 0, ${r}, 0.)`;
}

/**
 * Quantiles of the percentile-capped base metrics over units with a positive value, all variations and
 * dimension values together. `quantileExactInclusive` interpolates linearly between order statistics at
 * position p·(n − 1): numpy's default `linear` method (Hyndman & Fan type 7); `quantileExact` would return
 * an order statistic and `quantileExactExclusive` uses p·(n + 1) (type 6).
 * Columns q{i} (the quantile) and n{i} (units with a positive value) for each capped metric index i.
 *
 * The per-unit pass reads the capped metrics alone: the request's other metrics (a windowed conversion, a
 * plain mean) play no part in a cap, and leaving them out spares their columns and, when none of the capped
 * ones has a window, the join (see `quantileShapeFor`). At 1M units that took this pass from ~1.3 s to
 * ~0.4 s (bench/RESULTS.md, issue 16).
 */
export function quantileSql(
  metrics: readonly BaseMetric[],
  capped: readonly number[],
  scope: MetricSqlScope,
  shape: PerUnitShape,
): BuiltSql {
  const params = scopeParams({ ...scope, dimension: undefined });
  const cappedMetrics = capped.map((i) => {
    const metric = metrics[i];
    if (metric?.cap === undefined || !('percentile' in metric.cap))
      throw new Error(`metric ${i} has no percentile cap`);
    return metric;
  });
  // Per-unit columns e{j}/r{j} are numbered by position in cappedMetrics; results keep the request's index i.
  const perUnit = perUnitSql(cappedMetrics, { ...scope, dimension: undefined }, params, shape, false);
  const columns = capped.map((i, j) => {
    const metric = cappedMetrics[j] as BaseMetric & { cap: { percentile: number } };
    params[`p${i}`] = metric.cap.percentile;
    const value = uncappedSql(metric, `e${j}`, `r${j}`);
    return `quantileExactInclusiveIf({p${i}:Float64})(${value}, ${value} > 0) AS q${i}, toFloat64(countIf(${value} > 0)) AS n${i}`;
  });
  return { sql: `SELECT ${columns.join(', ')} FROM (${perUnit})`, params };
}

/**
 * The shape of the cap quantiles' pass: decided by the capped metrics and `as_of` alone (the quantile is
 * over all dimension values, and another metric's window is not the capped metric's), so a request whose
 * sums must join can still read the caps from the per_unit projection. A metric's cap is then the same in
 * every request without as_of, whatever else the request asks for. The two shapes count the same units
 * except where the processor left rows that no live assignment owns: tracks its retention evicted before
 * the unit's assignment changed (services/stats/README.md, Limits), which the projection counts, as the
 * default results do, and the join does not; and the moment between the sink's inserts of exposures and of
 * attributed rows. When the request is rerun joined because the tables disagreed (`forceJoin`), the
 * quantile joins too.
 */
export function quantileShapeFor(
  metrics: readonly BaseMetric[],
  capped: readonly number[],
  scope: MetricSqlScope,
  forceJoin: boolean,
): PerUnitShape {
  if (forceJoin) return 'joined';
  const cappedMetrics = capped.map((i) => metrics[i] as BaseMetric);
  return perUnitShapeFor(cappedMetrics, { ...scope, dimension: undefined });
}

/**
 * Per (dimension value, variation): for each base metric i, conversions c{i}, Σ v s{i}, Σ v² q{i} with v the
 * capped value; for each ratio pair j (numerator index, denominator index), Σ v_N·v_D x{j}. `caps[i]` is the
 * cap to apply to metric i (absolute, or the quantile found by quantileSql), or null.
 */
export function metricSumsSql(
  metrics: readonly BaseMetric[],
  caps: readonly (number | null)[],
  ratioPairs: readonly (readonly [number, number])[],
  scope: MetricSqlScope,
  shape: PerUnitShape,
): BuiltSql {
  const params = scopeParams(scope);
  const perUnit = perUnitSql(metrics, scope, params, shape);
  const values = metrics.map((m, i) => {
    const cap = caps[i] ?? null;
    if (cap === null) return `${uncappedSql(m, `e${i}`, `r${i}`)} AS v${i}`;
    params[`cap${i}`] = cap;
    return `least(${uncappedSql(m, `e${i}`, `r${i}`)}, {cap${i}:Float64}) AS v${i}`;
  });
  const sums = metrics.map(
    (_m, i) => `toFloat64(countIf(e${i} > 0)) AS c${i}, sum(v${i}) AS s${i}, sum(v${i} * v${i}) AS q${i}`,
  );
  const cross = ratioPairs.map(([n, d], j) => `sum(v${n} * v${d}) AS x${j}`);
  // CUPED: the covariate value yv{i} (0 without live rows, as v) and Σ y, Σ y², Σ v·y per variation.
  const cuped = cupedIndexes(metrics);
  const covariateValues = cuped.map((i) => `if(ye${i} > 0, y${i}, 0.) AS yv${i}`);
  const covariateSums = cuped.map(
    (i) => `sum(yv${i}) AS sy${i}, sum(yv${i} * yv${i}) AS syy${i}, sum(v${i} * yv${i}) AS sxy${i}`,
  );
  const carried = metrics.map((_m, i) => `e${i}`).join(', ');
  return {
    sql: `SELECT dv, arm, ${[...sums, ...cross, ...covariateSums].join(', ')}
          FROM (SELECT dv, arm, ${carried}, ${[...values, ...covariateValues].join(', ')} FROM (${perUnit}))
          GROUP BY dv, arm`,
    params,
  };
}

/** Live units per (dimension value, variation, multiple_exposure); with as_of, first exposed at or before T. */
export function unitsSql(scope: MetricSqlScope): BuiltSql {
  const params = scopeParams(scope);
  const asOf = scope.asOf === undefined ? '' : ` AND first_exposure_at <= {as_of:DateTime64(3, 'UTC')}`;
  return {
    sql: `SELECT ${dimensionValueSql(scope)} AS dv, variation, multiple_exposure, toFloat64(sum(sign)) AS units
          FROM exposures
          WHERE project = {project:String} AND experiment = {experiment:String}${asOf}
          GROUP BY dv, variation, multiple_exposure`,
    params,
  };
}

/**
 * Analysed and multiple-exposure units per raw value of a dimension (before pooling), to choose the values
 * shown: the caller keeps the largest MAX_DIMENSION_VALUES by analysed units.
 */
export function dimensionValuesSql(scope: Omit<MetricSqlScope, 'dimension'>, dimension: string): BuiltSql {
  const params = scopeParams({ ...scope, dimension: { name: dimension, topValues: [] } });
  const asOf = scope.asOf === undefined ? '' : ` AND first_exposure_at <= {as_of:DateTime64(3, 'UTC')}`;
  return {
    sql: `SELECT if(mapContains(dimensions, {dim:String}), dimensions[{dim:String}], '${NONE_VALUE}') AS value,
                 toFloat64(sumIf(sign, multiple_exposure = 0)) AS units
          FROM exposures
          WHERE project = {project:String} AND experiment = {experiment:String}${asOf}
          GROUP BY value`,
    params,
  };
}
