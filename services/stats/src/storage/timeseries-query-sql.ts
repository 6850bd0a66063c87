/**
 * The SQL of a metric time series: for every boundary T_i of a sorted list, the figures loadMetricStats gives
 * with asOf = T_i (metric-query-sql.ts), in a fixed number of queries whatever the number of boundaries.
 * Pure: text and parameters.
 *
 * Every exposure row and attributed row gets the index of the first boundary it belongs to,
 * idx = the smallest i with timestamp ≤ T_i, by an ASOF JOIN with the boundaries (a binary search per row;
 * an array lambda such as arrayCount(b -> b < t, bounds) costs O(boundaries) per row and copies the array
 * into every row: 25 times slower at 720 boundaries). An attributed row counts for a unit only from the
 * boundary where the unit itself is first counted, greatest(idx(t), idx(first exposure)).
 *
 * - units: Σ sign per (variation, multiple_exposure, idx(first exposure)); running sums over idx are the
 *   units as of each boundary (a row identity sums to 0 or 1 and all its rows share one first exposure).
 * - steps: per (unit, idx), what the unit's rows at that boundary add to each base metric (e = Σ sign,
 *   r = Σ sign·amount, windows applied, exactly as metric-query-sql.ts); running sums per unit over idx
 *   are the unit's totals as of each boundary where they changed.
 * - deltas: per (variation, idx), the change of c_u, v_u, v_u², v_N·v_D between a unit's totals before and
 *   after its step, v_u capped by an absolute cap: Σ over idx ≤ i is the as_of(T_i) sum. Costs one scan of
 *   the rows, O(unit changes) after it.
 * - percentile caps: the quantile is recomputed at every boundary, so a change of q changes every unit's
 *   capped value and the deltas above no longer telescope. Those metrics (and ratios with such an operand)
 *   take the expanded path: each unit with attributed rows is repeated at every boundary from its first step
 *   on, carrying its totals there; the quantile and the capped sums are grouped per boundary. This costs
 *   O(units with rows × boundaries) rows, twice (ClickHouse inlines the subquery into both the quantile side
 *   and the sums side of the join), and is what bounds MAX_TIMESERIES_POINTS.
 */
import { dateTime64Param } from './results-query.ts';
import { amountSql, countsSql, uncappedSql } from './metric-query-sql.ts';
import type { BaseMetric, BuiltSql } from './metric-query-sql.ts';

export interface TimeseriesSqlScope {
  project: string;
  experiment: string;
  /** Strictly ascending unix ms; as_of(T_i) includes timestamps ≤ T_i. */
  boundaries: readonly number[];
}

function scopeParams(scope: TimeseriesSqlScope): Record<string, unknown> {
  const last = scope.boundaries[scope.boundaries.length - 1];
  if (last === undefined) throw new Error('a time series needs at least one boundary');
  return {
    project: scope.project,
    experiment: scope.experiment,
    bounds: [...scope.boundaries],
    points: scope.boundaries.length,
    last: dateTime64Param(last),
  };
}

/** The boundaries as a table (k: the constant key ASOF JOIN needs; idx from 0; bt in unix ms). */
const BOUNDS = `(SELECT 1 AS k, toUInt32(n - 1) AS idx, {bounds:Array(Int64)}[n] AS bt
                 FROM (SELECT arrayJoin(arrayEnumerate({bounds:Array(Int64)})) AS n))`;

const EXPERIMENT = 'project = {project:String} AND experiment = {experiment:String}';

/**
 * Live analysed assignments first exposed by the last boundary, with fidx = idx(first exposure). As in
 * metric-query-sql.ts: a row identity sums to 0 or 1, and filtering on first_exposure_at keeps or drops
 * whole identities, so the live assignment as of T is the one of now when first exposed by T.
 */
function assignedSql(): string {
  return `SELECT x.who AS who, x.arm AS arm, x.fx AS fx, b.idx AS fidx
          FROM (SELECT unit AS who, variation AS arm, first_exposure_at AS fx,
                       toUnixTimestamp64Milli(first_exposure_at) AS fx_ms, 1 AS k
                FROM exposures
                WHERE ${EXPERIMENT} AND first_exposure_at <= {last:DateTime64(3, 'UTC')}
                GROUP BY unit, variation, multiple_exposure, first_exposure_at
                HAVING sum(sign) > 0 AND multiple_exposure = 0) AS x
          ASOF INNER JOIN ${BOUNDS} AS b ON x.k = b.k AND x.fx_ms <= b.bt`;
}

/**
 * Per unit and boundary where it changed: de{i}/dr{i}, what its rows at that boundary add, and e{i}/r{i},
 * its running totals there (everything up to and including that boundary). `next` is the index of the
 * unit's next step, or the number of boundaries after its last one.
 */
function runningSql(metrics: readonly BaseMetric[], params: Record<string, unknown>): string {
  const events = [...new Set(metrics.map((m) => m.event))];
  params['events'] = events;
  const steps = metrics.map((m, i) => {
    const counts = countsSql(m, i, params);
    return `sumIf(t.sign, ${counts}) AS de${i}, sumIf(${amountSql(m)}, ${counts}) AS dr${i}`;
  });
  const totals = metrics.map(
    (_m, i) => `de${i}, dr${i}, sum(de${i}) OVER so_far AS e${i}, sum(dr${i}) OVER so_far AS r${i}`,
  );
  return `SELECT who, arm, idx, leadInFrame(idx, 1, toUInt32({points:UInt32})) OVER all_steps AS next, ${totals.join(', ')}
          FROM (SELECT t.unit AS who, a.arm AS arm, greatest(b.idx, a.fidx) AS idx, ${steps.join(', ')}
                FROM (SELECT unit, variation, event, timestamp, weight, value, sign,
                             toUnixTimestamp64Milli(timestamp) AS t_ms, 1 AS k
                      FROM attributed
                      WHERE ${EXPERIMENT} AND has({events:Array(String)}, event)
                        AND timestamp <= {last:DateTime64(3, 'UTC')}) AS t
                INNER JOIN (${assignedSql()}) AS a ON t.unit = a.who AND t.variation = a.arm
                ASOF INNER JOIN ${BOUNDS} AS b ON t.k = b.k AND t.t_ms <= b.bt
                GROUP BY who, arm, idx)
          WINDOW so_far AS (PARTITION BY who, arm ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                 all_steps AS (PARTITION BY who, arm ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`;
}

/** A base metric's percentile cap p (it takes the expanded path), else null. */
export function percentileOf(metric: BaseMetric): number | null {
  return metric.cap !== undefined && 'percentile' in metric.cap ? metric.cap.percentile : null;
}

/** `value` with metric i's absolute cap applied (as a parameter), unchanged without one. */
function absoluteCapped(
  metric: BaseMetric,
  i: number,
  value: string,
  params: Record<string, unknown>,
): string {
  if (metric.cap === undefined || !('absolute' in metric.cap)) return value;
  params[`cap${i}`] = metric.cap.absolute;
  return `least(${value}, {cap${i}:Float64})`;
}

/** The ratio pairs whose sums the expanded path computes: those with a percentile-capped operand. */
export function expandedPairs(
  metrics: readonly BaseMetric[],
  ratioPairs: readonly (readonly [number, number])[],
): number[] {
  return ratioPairs.flatMap(([n, d], j) =>
    percentileOf(metrics[n] as BaseMetric) !== null || percentileOf(metrics[d] as BaseMetric) !== null
      ? [j]
      : [],
  );
}

/**
 * Per (variation, idx): the change at boundary idx of c{i} (every base metric), s{i}/q{i} (Σ v, Σ v², base
 * metrics without a percentile cap) and x{j} (Σ v_N·v_D, ratio pairs without a percentile-capped operand).
 * The as_of(T_i) sum is the sum of the rows with idx ≤ i. Int-like columns come back as Float64.
 */
export function metricDeltasSql(
  metrics: readonly BaseMetric[],
  ratioPairs: readonly (readonly [number, number])[],
  scope: TimeseriesSqlScope,
): BuiltSql {
  const params = scopeParams(scope);
  const running = runningSql(metrics, params);
  const expanded = new Set(expandedPairs(metrics, ratioPairs));
  const values = metrics.flatMap((m, i) => {
    const now = absoluteCapped(m, i, uncappedSql(m, `e${i}`, `r${i}`), params);
    const was = absoluteCapped(m, i, uncappedSql(m, `e${i} - de${i}`, `r${i} - dr${i}`), params);
    return [
      `toFloat64(e${i} > 0) AS now_c${i}, toFloat64(e${i} - de${i} > 0) AS was_c${i}`,
      `${now} AS now_v${i}, ${was} AS was_v${i}`,
    ];
  });
  const sums = metrics.flatMap((m, i) => [
    `sum(now_c${i} - was_c${i}) AS c${i}`,
    ...(percentileOf(m) === null
      ? [`sum(now_v${i} - was_v${i}) AS s${i}`, `sum(now_v${i} * now_v${i} - was_v${i} * was_v${i}) AS q${i}`]
      : []),
  ]);
  const cross = ratioPairs.flatMap(([n, d], j) =>
    expanded.has(j) ? [] : [`sum(now_v${n} * now_v${d} - was_v${n} * was_v${d}) AS x${j}`],
  );
  return {
    sql: `SELECT arm, idx, ${[...sums, ...cross].join(', ')}
          FROM (SELECT arm, idx, ${values.join(', ')} FROM (${running}))
          GROUP BY arm, idx`,
    params,
  };
}

/**
 * The expanded path, for the base metrics with a percentile cap (`metrics` has at least one): per
 * (variation, idx), the as_of(T_idx) values themselves (not changes) of s{i}/q{i} for each percentile-capped
 * i, x{j} for each pair in expandedPairs, and the p-quantile of u_i over units with u_i > 0 at
 * that boundary, all variations together (cap{i}), and how many such units (pos{i}; cap{i} is meaningless
 * when it is 0).
 * Boundaries where no unit has a row yet have no row here (all sums 0, nothing to cap).
 */
export function percentileSumsSql(
  metrics: readonly BaseMetric[],
  ratioPairs: readonly (readonly [number, number])[],
  scope: TimeseriesSqlScope,
): BuiltSql {
  const params = scopeParams(scope);
  const pairs = expandedPairs(metrics, ratioPairs);
  const capped = metrics.flatMap((m, i) => (percentileOf(m) === null ? [] : [i]));
  if (capped.length === 0) throw new Error('percentileSumsSql needs a metric with a percentile cap');
  const used = [
    ...new Set([...capped, ...pairs.flatMap((j) => ratioPairs[j] as readonly [number, number])]),
  ].sort((a, b) => a - b);
  const uncapped = used.map((i) => `${uncappedSql(metrics[i] as BaseMetric, `e${i}`, `r${i}`)} AS u${i}`);
  const atBoundary = `SELECT arm, j, ${uncapped.join(', ')}
                      FROM (${runningSql(metrics, params)})
                      ARRAY JOIN range(idx, next) AS j`;
  const quantiles = capped.map((i) => {
    params[`p${i}`] = percentileOf(metrics[i] as BaseMetric);
    // quantileExactInclusive: linear interpolation at p·(n − 1), numpy's default (see quantileSql).
    return `quantileExactInclusiveIf({p${i}:Float64})(u${i}, u${i} > 0) AS pq${i}, toFloat64(countIf(u${i} > 0)) AS pn${i}`;
  });
  const values = used.map((i) => {
    const metric = metrics[i] as BaseMetric;
    const value =
      percentileOf(metric) === null
        ? absoluteCapped(metric, i, `x.u${i}`, params)
        : `if(qs.pn${i} > 0, least(x.u${i}, qs.pq${i}), x.u${i})`;
    return `${value} AS v${i}`;
  });
  const sums = [
    ...capped.map(
      (i) =>
        `sum(v${i}) AS s${i}, sum(v${i} * v${i}) AS q${i}, any(pq${i}) AS cap${i}, any(pn${i}) AS pos${i}`,
    ),
    ...pairs.map((j) => {
      const [n, d] = ratioPairs[j] as readonly [number, number];
      return `sum(v${n} * v${d}) AS x${j}`;
    }),
  ];
  return {
    sql: `SELECT arm, idx, ${sums.join(', ')}
          FROM (SELECT x.arm AS arm, x.j AS idx, ${capped.map((i) => `qs.pq${i} AS pq${i}, qs.pn${i} AS pn${i}`).join(', ')},
                       ${values.join(', ')}
                FROM (${atBoundary}) AS x
                INNER JOIN (SELECT j, ${quantiles.join(', ')} FROM (${atBoundary}) GROUP BY j) AS qs ON x.j = qs.j)
          GROUP BY arm, idx`,
    params,
  };
}

/**
 * Per (variation, multiple_exposure, idx of first exposure): Σ sign. The units as of T_i are the running sums
 * over idx ≤ i; a (variation, multiple_exposure) pair exists as of T_i from its smallest idx on, as the group
 * of loadMetricStats' unitsSql does (even when its sum is 0).
 */
export function unitDeltasSql(scope: TimeseriesSqlScope): BuiltSql {
  return {
    sql: `SELECT e.variation AS variation, e.multiple_exposure AS multiple_exposure, b.idx AS idx,
                 toFloat64(sum(e.sign)) AS units
          FROM (SELECT variation, multiple_exposure, sign, toUnixTimestamp64Milli(first_exposure_at) AS fx_ms, 1 AS k
                FROM exposures
                WHERE ${EXPERIMENT} AND first_exposure_at <= {last:DateTime64(3, 'UTC')}) AS e
          ASOF INNER JOIN ${BOUNDS} AS b ON e.k = b.k AND e.fx_ms <= b.bt
          GROUP BY variation, multiple_exposure, idx`,
    params: scopeParams(scope),
  };
}
