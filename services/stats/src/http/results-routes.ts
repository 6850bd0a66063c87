/**
 * GET /v1/experiments and GET /v1/experiments/:experiment/results. Read keys only; every query is
 * filtered by the key's project, so a key never sees another project's data.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { errorChain } from '../../../../shared/errors.ts';
import type { ProjectSettings, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { computeResults } from '../math/experiment-results.ts';
import type { ResultsError } from '../math/types.ts';
import type { StatsMetrics } from '../stats-metrics.ts';
import { listExperiments } from '../storage/experiments-query.ts';
import type { FreshnessTracker } from '../freshness/freshness-tracker.ts';
import { openAlertCounts } from '../storage/open-alerts-query.ts';
import { loadResultsAggregates } from '../storage/results-query.ts';
import { authorizeRead } from './auth.ts';
import { parseResultsParams, resolveControl } from './results-params.ts';
import { expectedWeightsFor, sequentialTuningParameter, toResultsBody } from './results-response.ts';
import { Type } from '@sinclair/typebox';
import { checkDimension, metricResultsBody } from './metric-results.ts';
import { DEFAULT_CONFIDENCE } from '../math/experiment-results.ts';
import {
  ErrorSchema,
  MetricResultsResponseSchema,
  MetricsCatalogueResponseSchema,
  ExperimentParamsSchema,
  ExperimentsResponseSchema,
  ResultsQuerySchema,
  ResultsResponseSchema,
} from './route-schemas.ts';
import { StatsHttpError } from './stats-errors.ts';
import { withZeroVariation } from '../math/absent-variation.ts';

export interface ResultsRouteDeps {
  catalog: ProjectCatalog;
  clickhouse: ClickHouseClient;
  metrics: StatsMetrics;
  /** Clock of `computed_at`. */
  now: () => Date;
}

/** The results routes' dependencies: the shared ones and freshness. */
export interface ExperimentRoutesDeps extends ResultsRouteDeps {
  /** Each experiment's newest counted event (last_event_at), without a table scan per request. */
  freshness: FreshnessTracker;
}

/** The error answers every data route may give (one body shape, codes in stats-errors.ts). */
export const errors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
};
export const security = [{ bearerAuth: [] }];

export function resultsRoutes(deps: ExperimentRoutesDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/experiments',
      {
        schema: {
          summary: "The key's project's experiments",
          description:
            'Variations with their analysed units, multiple-exposure units, the earliest and latest first ' +
            'exposure among live units, the newest counted event (freshness) and the open alerts (health), so a ' +
            'listing needs no request per experiment. Read keys only.',
          security,
          response: { 200: ExperimentsResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const [experiments, newest, alerts] = await storage(() =>
          Promise.all([
            listExperiments(deps.clickhouse, project.id),
            openAlertCounts(deps.clickhouse, project.id),
          ]).then(async ([experiments, alerts]) => {
            const names = experiments.map((e) => e.experiment);
            return [experiments, await deps.freshness.newestOf(project.id, names), alerts] as const;
          }),
        );
        return {
          project: project.id,
          experiments: experiments.map((e) => ({
            experiment: e.experiment,
            variations: e.variations,
            units: e.units,
            multiple_exposure_units: e.multipleExposureUnits,
            first_exposure_at: isoOrNull(e.firstExposureAt),
            last_exposure_at: isoOrNull(e.lastExposureAt),
            last_event_at: isoOrNull(newest.get(e.experiment) ?? null),
            open_alerts: alerts.get(e.experiment)?.total ?? 0,
            open_alerts_by_kind: alerts.get(e.experiment)?.byKind ?? {},
          })),
        };
      },
    );

    app.get(
      '/v1/metrics',
      {
        schema: {
          summary: "The key's project's metric catalogue",
          description:
            "Metrics (config-as-code in PROJECTS_FILE), declared dimensions and each experiment's metric set. Read keys only.",
          security,
          response: { 200: MetricsCatalogueResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        return {
          project: project.id,
          dimensions: project.dimensions,
          metrics: project.metrics,
          experiments: project.experiments,
        };
      },
    );

    app.get(
      '/v1/experiments/:experiment/results',
      {
        schema: {
          summary: 'Per-variation results of one event, or of several catalogue metrics',
          description:
            'With `metric=<event>`: conversion rate, value and count per unit, lift with its confidence interval, p-values ' +
            '(z-test, Welch, Holm-adjusted) and a sample ratio mismatch check (the "Results" shape). Without it: the ' +
            "catalogue metrics named by `metrics` (or the experiment's metric set), one block each, optionally per value of " +
            'a `dimension` (the "Metric results" shape). As defined in docs/semantics.md. Intervals and p-values are ' +
            'fixed-horizon; every treatment also has a `sequential` block (gbstats SequentialTwoSidedTTest), valid however ' +
            "often it is read. The control's comparison fields are null; undefined figures are null. Read keys only.",
          security,
          params: ExperimentParamsSchema,
          querystring: ResultsQuerySchema,
          response: { 200: Type.Union([ResultsResponseSchema, MetricResultsResponseSchema]), ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const query = request.query as Record<string, unknown>;
        if (query['metric'] === undefined || query['metric'] === '') {
          return storage(() =>
            metricResults(deps, project, request.params as Record<string, unknown>, query),
          );
        }
        if (query['metrics'] !== undefined || query['dimension'] !== undefined) {
          throw new StatsHttpError(
            'invalid_parameter',
            `parameter "${query['metrics'] !== undefined ? 'metrics' : 'dimension'}" cannot be combined with "metric" (one event's figures); ` +
              'name catalogue metrics with metrics=a,b alone',
          );
        }
        const parsed = parseResultsParams(
          request.params as Record<string, unknown>,
          request.query as Record<string, unknown>,
        );
        if (!parsed.ok) throw new StatsHttpError('invalid_parameter', parsed.message);
        const params = parsed.value;
        const started = performance.now();
        const [aggregates, newest] = await storage(() =>
          Promise.all([
            loadResultsAggregates(
              deps.clickhouse,
              {
                project: project.id,
                experiment: params.experiment,
                metric: params.metric,
                from: params.from,
                to: params.to,
              },
              definedEvents(project).has(params.metric),
            ),
            deps.freshness.newest(project.id, params.experiment),
          ]),
        );
        deps.metrics.resultsQuerySeconds.observe(
          { path: aggregates.kind === 'ok' ? aggregates.path : aggregates.kind },
          (performance.now() - started) / 1000,
        );
        switch (aggregates.kind) {
          case 'unknown_experiment':
            throw new StatsHttpError(
              'unknown_experiment',
              `project "${project.id}" has no exposure to an experiment named ${JSON.stringify(params.experiment)}`,
            );
          case 'unknown_metric':
            throw new StatsHttpError(
              'unknown_metric',
              `project "${project.id}" has no attributed event named ${JSON.stringify(params.metric)} in any experiment, ` +
                'and its event definitions do not define it',
            );
          case 'inconsistent':
            throw new StatsHttpError(
              'data_inconsistent',
              `stored exposures and events disagree: ${aggregates.reason}`,
              {
                retryAfterSeconds: 1,
              },
            );
          case 'ok':
            break;
        }
        const control = resolveControl(
          aggregates.variations.map((v) => v.variation),
          params.control,
          project.experiments[params.experiment]?.control,
        );
        if (!control.ok) throw new StatsHttpError('invalid_parameter', control.message);
        const outcome = computeResults({
          variations: control.absent
            ? withZeroVariation(aggregates.variations, control.control)
            : aggregates.variations,
          control: control.control,
          confidence: params.confidence,
          expectedWeights: expectedWeightsFor(project.expectedSplit, params.experiment),
          sequentialTuningParameter: sequentialTuningParameter(project, params.experiment),
        });
        if (!outcome.ok) throw resultsError(outcome.error, project.id, params.experiment);
        return toResultsBody({
          experiment: params.experiment,
          metric: params.metric,
          computedAt: deps.now(),
          multipleExposureUnits: aggregates.multipleExposureUnits,
          lastEventAt: newest,
          results: outcome.value,
        });
      },
    );
  };
}

/** Event names the project defines (config-as-code `eventDefinitions.events`), known even before any event. */
export function definedEvents(project: ProjectSettings): Set<string> {
  const definitions = project.eventDefinitions;
  if (typeof definitions !== 'object' || definitions === null) return new Set();
  const events = (definitions as { events?: unknown }).events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) return new Set();
  return new Set(Object.keys(events));
}

function resultsError(error: ResultsError, project: string, experiment: string): StatsHttpError {
  switch (error.code) {
    case 'unknown_control':
      return new StatsHttpError('invalid_parameter', `parameter "control": ${error.message}`);
    case 'invalid_confidence':
      return new StatsHttpError('invalid_parameter', `parameter "confidence": ${error.message}`);
    case 'invalid_expected_weights':
      return new StatsHttpError(
        'invalid_configuration',
        `expectedSplit of experiment ${JSON.stringify(experiment)} in project "${project}": ${error.message}`,
      );
    case 'invalid_tuning_parameter':
      return new StatsHttpError(
        'invalid_configuration',
        `experiments.${JSON.stringify(experiment)} in project "${project}": ${error.message}`,
      );
    case 'duplicate_variation':
    case 'invalid_variation_stats':
      return new StatsHttpError('data_inconsistent', `stored aggregates are not usable: ${error.message}`, {
        retryAfterSeconds: 1,
      });
  }
}

/**
 * Runs a storage call; a ClickHouse that cannot be reached becomes 503, anything else (a defect such as
 * a bad statement) propagates to the error handler as a 500.
 */
export async function storage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isUnreachable(err)) {
      throw new StatsHttpError('clickhouse_unavailable', 'ClickHouse did not answer; retry later', {
        retryAfterSeconds: 2,
        cause: err,
      });
    }
    throw err;
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

function isUnreachable(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    return (typeof code === 'string' && UNREACHABLE.has(code)) || /timeout/i.test(e.message);
  });
}

/** The multi-metric answer: parameters parsed here (the event-name path has its own parser). */
async function metricResults(
  deps: ExperimentRoutesDeps,
  project: ProjectSettings,
  path: Record<string, unknown>,
  query: Record<string, unknown>,
) {
  for (const name of ['from', 'to']) {
    if (query[name] !== undefined) {
      throw new StatsHttpError(
        'invalid_parameter',
        `parameter "${name}" applies to one event's figures (metric=<event>); catalogue metrics use windows, and results over time use /results/timeseries`,
      );
    }
  }
  const parsed = parseResultsParams(path, { ...query, metric: 'unused' });
  if (!parsed.ok) throw new StatsHttpError('invalid_parameter', parsed.message);
  const dimension =
    typeof query['dimension'] === 'string' && query['dimension'] !== '' ? query['dimension'] : undefined;
  checkDimension(project, dimension);
  const started = performance.now();
  const [body, newest] = await Promise.all([
    metricResultsBody(
      deps.clickhouse,
      project,
      {
        experiment: parsed.value.experiment,
        metrics: query['metrics'],
        dimension,
        control: parsed.value.control,
        confidence: parsed.value.confidence ?? DEFAULT_CONFIDENCE,
      },
      deps.now(),
    ),
    deps.freshness.newest(project.id, parsed.value.experiment),
  ]);
  deps.metrics.resultsQuerySeconds.observe(
    { path: dimension === undefined ? 'catalogue' : 'dimension' },
    (performance.now() - started) / 1000,
  );
  // Added here, not in metric-results.ts: freshness is the experiment's, whatever metrics were asked for.
  return { ...body, last_event_at: isoOrNull(newest) };
}

/** Unix ms → ISO-8601, null kept. */
function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
