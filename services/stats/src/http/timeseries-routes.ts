/**
 * GET /v1/experiments/:experiment/results/timeseries: as_of(T) at each UTC hour or day boundary from the
 * experiment's first exposure to now, plus now (docs/semantics.md, "Results over time"), for one catalogue
 * metric or one event name. One pass in ClickHouse whatever the number of points
 * (storage/timeseries-query.ts); at most MAX_TIMESERIES_POINTS points. Read keys only.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { DEFAULT_CONFIDENCE } from '../math/experiment-results.ts';
import { computeMetricResults } from '../math/metric-results.ts';
import type { MetricStats } from '../math/metric-stats.ts';
import { experimentFirstExposure } from '../storage/first-exposure-query.ts';
import { metricSeen } from '../storage/results-query.ts';
import { MAX_TIMESERIES_POINTS, timeseriesBoundaries } from '../storage/timeseries-boundaries.ts';
import { loadMetricTimeseries } from '../storage/timeseries-query.ts';
import type { MetricTimeseriesPoint } from '../storage/timeseries-query.ts';
import { authorizeRead } from './auth.ts';
import { METRIC_RESULTS_INFERENCE } from './metric-results.ts';
import { parseResultsParams, resolveControl } from './results-params.ts';
import { sequentialTuningParameter } from './results-response.ts';
import { definedEvents, errors, security, storage } from './results-routes.ts';
import type { ResultsRouteDeps } from './results-routes.ts';
import { ExperimentParamsSchema, TimeseriesQuerySchema, TimeseriesResponseSchema } from './route-schemas.ts';
import { StatsHttpError } from './stats-errors.ts';

export function timeseriesRoutes(deps: ResultsRouteDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/experiments/:experiment/results/timeseries',
      {
        schema: {
          summary: 'Results over time: as_of(T) at each hour or day boundary, plus now',
          description:
            'For a catalogue metric (GET /v1/metrics) or an event name (its conversion figures, with value per unit): ' +
            'per variation units, conversions, rate, value per unit, the metric estimate, lift with its interval and the ' +
            `p-value (fixed-horizon) and the always-valid \`sequential\` block, as they were at each boundary (events and exposures at or before it, identity as known now). At most ${MAX_TIMESERIES_POINTS} points. Read keys only.`,
          security,
          params: ExperimentParamsSchema,
          querystring: TimeseriesQuerySchema,
          response: { 200: TimeseriesResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const query = request.query as Record<string, unknown>;
        const parsed = parseResultsParams(request.params as Record<string, unknown>, query);
        if (!parsed.ok) throw new StatsHttpError('invalid_parameter', parsed.message);
        const { experiment, metric: id } = parsed.value;
        const interval = query['interval'] === 'hour' ? 'hour' : 'day';
        const started = performance.now();
        const resolved = await storage(() => resolveMetric(deps.clickhouse, project, id));
        const now = deps.now();
        const first = await storage(() => experimentFirstExposure(deps.clickhouse, project.id, experiment));
        if (first === null) {
          throw new StatsHttpError(
            'unknown_experiment',
            `project "${project.id}" has no exposure to an experiment named ${JSON.stringify(experiment)}`,
          );
        }
        const bounds = timeseriesBoundaries(first, Math.max(first, now.getTime()), interval);
        if (bounds.kind === 'too_many_points') {
          throw new StatsHttpError(
            'invalid_parameter',
            `parameter "interval": ${bounds.points} ${interval} points since the first exposure (${new Date(first).toISOString()}); ` +
              `at most ${MAX_TIMESERIES_POINTS}: use interval=day`,
          );
        }
        const loaded = await storage(() =>
          loadMetricTimeseries(deps.clickhouse, {
            project: project.id,
            experiment,
            metrics: resolved.metrics,
            catalogue: [...project.metrics, ...resolved.metrics],
            boundaries: bounds.boundaries,
          }),
        );
        deps.metrics.resultsQuerySeconds.observe(
          { path: 'timeseries' },
          (performance.now() - started) / 1000,
        );
        if (loaded.kind === 'unknown_experiment') {
          throw new StatsHttpError(
            'unknown_experiment',
            `project "${project.id}" has no exposure to an experiment named ${JSON.stringify(experiment)}`,
          );
        }
        if (loaded.kind === 'inconsistent') {
          throw new StatsHttpError(
            'data_inconsistent',
            `stored exposures and events disagree: ${loaded.reason}`,
            { retryAfterSeconds: 1 },
          );
        }
        const last = loaded.points[loaded.points.length - 1];
        // A configured control with no unit yet: every point lacks it, and a point without its control
        // has no comparison (pointBody), as before the control's first exposure.
        const control = resolveControl(
          last?.units.map((u) => u.variation) ?? [],
          parsed.value.control,
          project.experiments[experiment]?.control,
        );
        if (!control.ok) throw new StatsHttpError('invalid_parameter', control.message);
        const confidence = parsed.value.confidence ?? DEFAULT_CONFIDENCE;
        const tuning = sequentialTuningParameter(project, experiment);
        return {
          project: project.id,
          experiment,
          metric: id,
          type: resolved.primary.type,
          interval,
          control: control.control,
          confidence,
          computed_at: now.toISOString(),
          inference: METRIC_RESULTS_INFERENCE,
          points: loaded.points.map((point) =>
            pointBody(point, resolved, control.control, confidence, tuning),
          ),
        };
      },
    );
  };
}

interface ResolvedMetric {
  /** The metric whose estimate, lift and p-value are shown. */
  primary: MetricConfig;
  /** For an event name: its value metric, for value_per_unit. */
  value: MetricConfig | null;
  metrics: MetricConfig[];
}

/** A catalogue id, else an event name the project defines or has seen; else 404 naming it. */
async function resolveMetric(
  client: ClickHouseClient,
  project: ProjectSettings,
  id: string,
): Promise<ResolvedMetric> {
  const configured = project.metrics.find((m) => m.id === id);
  if (configured !== undefined) return { primary: configured, value: null, metrics: [configured] };
  if (!definedEvents(project).has(id) && !(await metricSeen(client, project.id, id))) {
    throw new StatsHttpError(
      'unknown_metric',
      `project "${project.id}" has no metric named ${JSON.stringify(id)} in its catalogue and no attributed event of that name`,
    );
  }
  // Implicit metrics of an event, as the event results: its conversion, and its value per unit. Their ids
  // cannot collide with catalogue ids, which never contain '$'.
  const primary: MetricConfig = {
    id: `$${id}`,
    type: 'conversion',
    event: id,
    guardrail: false,
    direction: 'increase',
  };
  const value: MetricConfig = {
    id: `$${id}$value`,
    type: 'mean',
    event: id,
    guardrail: false,
    direction: 'increase',
  };
  return { primary, value, metrics: [primary, value] };
}

function pointBody(
  point: MetricTimeseriesPoint,
  resolved: ResolvedMetric,
  control: string,
  confidence: number,
  sequentialTuningParameter: number,
) {
  const stats = point.metrics.get(resolved.primary.id) as MetricStats;
  const valueStats = resolved.value === null ? null : (point.metrics.get(resolved.value.id) as MetricStats);
  const names = point.units.map((u) => u.variation);
  const results = computeMetricResults({
    type: resolved.primary.type,
    stats,
    control: names.includes(control) ? control : '',
    confidence,
    sequentialTuningParameter,
  }).variations;
  return {
    as_of: new Date(point.asOf).toISOString(),
    variations: results.map((r) => {
      const own = stats.variations.find((v) => v.variation === r.variation);
      const value = valueStats?.variations.find((v) => v.variation === r.variation);
      const perUnit = (sum: number | undefined) => (r.units > 0 && sum !== undefined ? sum / r.units : null);
      return {
        variation: r.variation,
        units: r.units,
        conversions: r.conversions,
        conversion_rate: r.units > 0 ? r.conversions / r.units : null,
        value_per_unit:
          value !== undefined
            ? perUnit(value.sum)
            : resolved.primary.type === 'conversion'
              ? null
              : perUnit(own?.sum),
        estimate: r.estimate,
        lift: r.lift,
        lift_ci: r.lift_ci,
        p_value: r.p_value,
        sequential: r.sequential,
      };
    }),
  };
}
