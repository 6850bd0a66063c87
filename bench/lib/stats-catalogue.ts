/**
 * Issue 15's requests for the stats bench: the bench project's metric catalogue (the example of
 * services/stats/README.md plus a plain mean), the catalogue, breakdown and time-series requests with their
 * targets, each run the way its route runs it (in-process) and as a path for the HTTP run, and a split of a
 * request into its SQL statements (where the time goes).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ProjectSettings } from '../../shared/projects/project-catalog.ts';
import { DEFAULT_CONFIDENCE } from '../../services/stats/src/math/experiment-results.ts';
import { computeMetricResults } from '../../services/stats/src/math/metric-results.ts';
import type { MetricStats } from '../../services/stats/src/math/metric-stats.ts';
import { metricResultsBody } from '../../services/stats/src/http/metric-results.ts';
import { experimentFirstExposure } from '../../services/stats/src/storage/first-exposure-query.ts';
import {
  baseMetricsOf,
  MAX_DIMENSION_VALUES,
  topValues,
} from '../../services/stats/src/storage/metric-query.ts';
import {
  dimensionValuesSql,
  metricSumsSql,
  perUnitShapeFor,
  quantileShapeFor,
  quantileSql,
  unitsSql,
} from '../../services/stats/src/storage/metric-query-sql.ts';
import type { BuiltSql, MetricSqlScope } from '../../services/stats/src/storage/metric-query-sql.ts';
import { timeseriesBoundaries } from '../../services/stats/src/storage/timeseries-boundaries.ts';
import { loadMetricTimeseries } from '../../services/stats/src/storage/timeseries-query.ts';
import {
  metricDeltasSql,
  percentileOf,
  percentileSumsSql,
  unitDeltasSql,
} from '../../services/stats/src/storage/timeseries-query-sql.ts';
import { EXPERIMENT, PROJECT } from './stats-bench-data.ts';

/** The analysis settings of the bench project (spread into its PROJECTS_FILE entry). */
export const BENCH_ANALYSIS = {
  dimensions: ['country', 'platform'],
  metrics: [
    { id: 'purchased', type: 'conversion', event: 'purchase', window: { delay_hours: 0, hours: 72 } },
    { id: 'purchased_any', type: 'conversion', event: 'purchase' },
    { id: 'revenue', type: 'mean', event: 'purchase', cap: { percentile: 0.99 } },
    { id: 'orders', type: 'count', event: 'purchase', cap: { absolute: 10 } },
    { id: 'order_value', type: 'ratio', numerator: 'revenue', denominator: 'orders' },
    { id: 'view_value', type: 'mean', event: 'view' },
    { id: 'revenue_cuped', type: 'mean', event: 'purchase', cap: { percentile: 0.99 }, cuped: { days: 14 } },
    { id: 'orders_cuped', type: 'count', event: 'purchase', cap: { absolute: 10 }, cuped: { days: 14 } },
    { id: 'view_value_cuped', type: 'mean', event: 'view', cuped: { days: 7 } },
  ],
  experiments: {
    [EXPERIMENT]: {
      metrics: ['purchased', 'revenue', 'orders', 'order_value', 'view_value'],
      control: 'control',
    },
  },
};

/** The 5-metric request: one windowed conversion, a p99-capped mean, an absolute-capped count, their ratio, a mean. */
const FIVE = ['purchased', 'revenue', 'orders', 'order_value', 'view_value'];
/** Issue 16: the 5 with CUPED on its three mean/count metrics (every line also carries sequential blocks). */
const FIVE_CUPED = ['purchased', 'revenue_cuped', 'orders_cuped', 'order_value', 'view_value_cuped'];
/** The same without the window: no join (the per_unit projection). */
const FIVE_NO_WINDOW = ['purchased_any', 'revenue', 'orders', 'order_value', 'view_value'];

/** One ClickHouse statement of a request, run alone. */
export interface Statement {
  name: string;
  run: () => Promise<unknown>;
}

export interface BenchRequest {
  label: string;
  /** Issue 15's bar for this line (median), or null for a reference line. */
  targetMs: number | null;
  /** What the route does for it, minus HTTP. */
  inProcess: (client: ClickHouseClient, project: ProjectSettings) => Promise<unknown>;
  /** Path and query of the same request over HTTP. */
  path: string;
  /** Its ClickHouse statements, to time each alone (where the time goes). */
  statements: (client: ClickHouseClient) => Promise<Statement[]>;
}

/** The requests issue 15 sets targets for (and the no-window reference), in the order they are printed. */
export function catalogueRequests(nowMs: number): BenchRequest[] {
  const resultsPath = `/v1/experiments/${EXPERIMENT}/results`;
  const catalogue = (label: string, ids: string[], targetMs: number | null, dimension?: string) => ({
    label,
    targetMs,
    inProcess: (client: ClickHouseClient, project: ProjectSettings) =>
      metricResultsBody(
        client,
        project,
        {
          experiment: EXPERIMENT,
          metrics: ids.join(','),
          dimension,
          control: 'control',
          confidence: DEFAULT_CONFIDENCE,
        },
        new Date(nowMs),
      ),
    path: `${resultsPath}?metrics=${ids.join(',')}&control=control${dimension === undefined ? '' : `&dimension=${dimension}`}`,
    statements: (client: ClickHouseClient) => catalogueStatements(client, ids, dimension),
  });
  const series = (label: string, id: string) => ({
    label,
    targetMs: 500,
    inProcess: (client: ClickHouseClient, project: ProjectSettings) => timeseries(client, project, id, nowMs),
    path: `${resultsPath}/timeseries?metric=${id}&interval=day&control=control`,
    statements: (client: ClickHouseClient) => timeseriesStatements(client, id, nowMs),
  });
  return [
    catalogue('5 metrics (window, p99 cap, abs cap, ratio, mean)', FIVE, 150),
    catalogue('same 5 without the window (per_unit projection)', FIVE_NO_WINDOW, null),
    catalogue('5 metrics, 3 with CUPED (issue 16; sequential in every line)', FIVE_CUPED, 200),
    catalogue(`5 metrics by country (${MAX_DIMENSION_VALUES} values + other)`, FIVE, 300, 'country'),
    series('daily series: purchased (72 h window)', 'purchased'),
    series('daily series: order_value (ratio, p99 cap)', 'order_value'),
  ];
}

/** The catalogue metrics of the bench project by id (ratio operands resolved against all of them). */
function metricsById(ids: readonly string[]): ProjectSettings['metrics'] {
  const all = BENCH_ANALYSIS.metrics as ProjectSettings['metrics'];
  return ids.map((id) => {
    const found = all.find((m) => m.id === id);
    if (found === undefined) throw new Error(`bench catalogue has no metric ${id}`);
    return found;
  });
}

/**
 * What GET .../results/timeseries does for a catalogue metric, minus HTTP: the first exposure, the daily
 * boundaries up to `nowMs`, the series, and the figures of every point.
 */
async function timeseries(
  client: ClickHouseClient,
  project: ProjectSettings,
  id: string,
  nowMs: number,
): Promise<number> {
  const first = await experimentFirstExposure(client, PROJECT, EXPERIMENT);
  if (first === null) throw new Error('no exposure');
  const bounds = timeseriesBoundaries(first, nowMs, 'day');
  if (bounds.kind !== 'ok') throw new Error(`${bounds.points} points`);
  const metrics = metricsById([id]);
  const loaded = await loadMetricTimeseries(client, {
    project: PROJECT,
    experiment: EXPERIMENT,
    metrics,
    catalogue: project.metrics,
    boundaries: bounds.boundaries,
  });
  if (loaded.kind !== 'ok') throw new Error(`timeseries: ${loaded.kind}`);
  const type = (metrics[0] as ProjectSettings['metrics'][number]).type;
  for (const point of loaded.points) {
    computeMetricResults({
      type,
      stats: point.metrics.get(id) as MetricStats,
      control: 'control',
      confidence: DEFAULT_CONFIDENCE,
    });
  }
  return loaded.points.length;
}

/** Points of the daily series of the bench data up to `nowMs` (for the table's label). */
export async function seriesPoints(client: ClickHouseClient, nowMs: number): Promise<number> {
  const first = await experimentFirstExposure(client, PROJECT, EXPERIMENT);
  const bounds = first === null ? null : timeseriesBoundaries(first, nowMs, 'day');
  return bounds?.kind === 'ok' ? bounds.boundaries.length : 0;
}

/** loadMetricStats' statements for `ids` (first try, no join fallback), with the caps it would find. */
async function catalogueStatements(
  client: ClickHouseClient,
  ids: readonly string[],
  dimension: string | undefined,
): Promise<Statement[]> {
  const all = BENCH_ANALYSIS.metrics as ProjectSettings['metrics'];
  const { base, ratioPairs } = baseMetricsOf(metricsById(ids), all);
  const statements: Statement[] = [];
  const add = (name: string, sql: BuiltSql) => statements.push({ name, run: () => rows(client, sql) });
  let scope: MetricSqlScope = { project: PROJECT, experiment: EXPERIMENT };
  if (dimension !== undefined) {
    const sql = dimensionValuesSql(scope, dimension);
    add('dimension values', sql);
    const values = await rows<{ value: string; units: number }>(client, sql);
    scope = { ...scope, dimension: { name: dimension, topValues: topValues(values) } };
  }
  const shape = perUnitShapeFor(base, scope);
  const caps = base.map((m) => (m.cap !== undefined && 'absolute' in m.cap ? m.cap.absolute : null));
  const percentile = base.flatMap((m, i) => (m.cap !== undefined && 'percentile' in m.cap ? [i] : []));
  if (percentile.length > 0) {
    const quantileShape = quantileShapeFor(base, percentile, scope, false);
    const sql = quantileSql(base, percentile, scope, quantileShape);
    add(`quantile (${quantileShape})`, sql);
    const [row] = await rows<Record<string, number | null>>(client, sql);
    for (const i of percentile) caps[i] = Number(row?.[`q${i}`] ?? 0);
  }
  add('units', unitsSql(scope));
  add(`metric sums (${shape})`, metricSumsSql(base, caps, ratioPairs, scope, shape));
  return statements;
}

/** loadMetricTimeseries' statements for catalogue metric `id` over the daily boundaries up to `nowMs`. */
async function timeseriesStatements(
  client: ClickHouseClient,
  id: string,
  nowMs: number,
): Promise<Statement[]> {
  const first = await experimentFirstExposure(client, PROJECT, EXPERIMENT);
  if (first === null) throw new Error('no exposure');
  const bounds = timeseriesBoundaries(first, nowMs, 'day');
  if (bounds.kind !== 'ok') throw new Error(`${bounds.points} points`);
  const all = BENCH_ANALYSIS.metrics as ProjectSettings['metrics'];
  const { base, ratioPairs } = baseMetricsOf(metricsById([id]), all);
  const scope = { project: PROJECT, experiment: EXPERIMENT, boundaries: bounds.boundaries };
  const run = (sql: BuiltSql) => () => rows(client, sql);
  const statements: Statement[] = [
    { name: 'first exposure', run: () => experimentFirstExposure(client, PROJECT, EXPERIMENT) },
    { name: 'unit deltas', run: run(unitDeltasSql(scope)) },
    { name: 'metric deltas', run: run(metricDeltasSql(base, ratioPairs, scope)) },
  ];
  if (base.some((m) => percentileOf(m) !== null)) {
    statements.push({
      name: 'percentile sums (expanded)',
      run: run(percentileSumsSql(base, ratioPairs, scope)),
    });
  }
  return statements;
}

export async function rows<T>(client: ClickHouseClient, built: BuiltSql): Promise<T[]> {
  const result = await client.query({ query: built.sql, query_params: built.params, format: 'JSONEachRow' });
  return result.json<T>();
}
