/**
 * The "Metric results" answer of GET /v1/experiments/:experiment/results: several catalogue metrics at once
 * (named by `metrics=`, or the experiment's metric set), one SRM and one multiple-exposure figure for the
 * experiment, then a block per metric; with `dimension=`, the same per dimension value.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { computeMetricResults } from '../math/metric-results.ts';
import type { MetricResults } from '../math/metric-results.ts';
import type { MetricStats } from '../math/metric-stats.ts';
import { srmResult } from '../math/srm.ts';
import type { SrmResult } from '../math/types.ts';
import { loadMetricStats } from '../storage/metric-query.ts';
import type { MetricStatsGroup } from '../storage/metric-query.ts';
import { parseMetricList, resolveControl } from './results-params.ts';
import { inferenceNote } from './inference-note.ts';
import { expectedWeightsFor, sequentialTuningParameter } from './results-response.ts';
import { StatsHttpError } from './stats-errors.ts';
import { withZeroMetricVariation, withZeroUnits } from '../math/absent-variation.ts';

export interface MetricResultsRequest {
  experiment: string;
  /** Raw `metrics` parameter. */
  metrics: unknown;
  dimension: string | undefined;
  control: string | undefined;
  confidence: number;
}

/** The metrics a request names, resolved against the project's catalogue; a 400 naming the first unknown. */
export function resolveRequestedMetrics(
  project: ProjectSettings,
  experiment: string,
  raw: unknown,
): MetricConfig[] {
  const parsed = parseMetricList(raw);
  if (parsed !== undefined && !Array.isArray(parsed))
    throw new StatsHttpError('invalid_parameter', parsed.error);
  const set = project.experiments[experiment];
  const ids = parsed ?? (set === undefined ? [] : [...new Set([...set.metrics, ...set.guardrails])]);
  if (ids.length === 0) {
    throw new StatsHttpError(
      'invalid_parameter',
      `parameter "metric" or "metrics" is required: experiment ${JSON.stringify(experiment)} has no metric set in project "${project.id}"; ` +
        'pass ?metrics=<ids from GET /v1/metrics> or ?metric=<event name>',
    );
  }
  const byId = new Map(project.metrics.map((m) => [m.id, m]));
  return ids.map((id) => {
    const metric = byId.get(id);
    if (metric === undefined) {
      const known = project.metrics.map((m) => m.id);
      throw new StatsHttpError(
        'invalid_parameter',
        `parameter "metrics": project "${project.id}" has no metric "${id}"; ` +
          (known.length === 0
            ? 'it defines none (use ?metric=<event name>)'
            : `its metrics are ${known.slice(0, 30).join(', ')}`),
      );
    }
    return metric;
  });
}

/** A 400 naming the dimension when the project does not declare it. */
export function checkDimension(project: ProjectSettings, dimension: string | undefined): void {
  if (dimension === undefined || project.dimensions.includes(dimension)) return;
  throw new StatsHttpError(
    'invalid_parameter',
    `parameter "dimension": project "${project.id}" declares no dimension "${dimension}"; ` +
      (project.dimensions.length === 0 ? 'it declares none' : `it declares ${project.dimensions.join(', ')}`),
  );
}

export async function metricResultsBody(
  client: ClickHouseClient,
  project: ProjectSettings,
  request: MetricResultsRequest,
  now: Date,
) {
  const metrics = resolveRequestedMetrics(project, request.experiment, request.metrics);
  checkDimension(project, request.dimension);
  const loaded = await loadMetricStats(client, {
    project: project.id,
    experiment: request.experiment,
    metrics,
    catalogue: project.metrics,
    dimension: request.dimension,
  });
  if (loaded.kind === 'unknown_experiment') {
    throw new StatsHttpError(
      'unknown_experiment',
      `project "${project.id}" has no exposure to an experiment named ${JSON.stringify(request.experiment)}`,
    );
  }
  if (loaded.kind === 'inconsistent') {
    throw new StatsHttpError('data_inconsistent', `stored exposures and events disagree: ${loaded.reason}`, {
      retryAfterSeconds: 1,
    });
  }
  const control = resolveControl(
    loaded.groups[0]?.units.map((u) => u.variation) ?? [],
    request.control,
    project.experiments[request.experiment]?.control,
  );
  if (!control.ok) throw new StatsHttpError('invalid_parameter', control.message);
  const groups = control.absent
    ? loaded.groups.map((g) => withZeroVariationGroup(g, control.control))
    : loaded.groups;
  const variations = groups[0]?.units.map((u) => u.variation) ?? [];
  const weights = expectedWeightsFor(project.expectedSplit, request.experiment);
  checkWeights(weights, variations, project.id, request.experiment);
  const set = project.experiments[request.experiment];
  const tuning = sequentialTuningParameter(project, request.experiment);
  const blocks = (group: MetricStatsGroup) =>
    metrics.map((metric) =>
      metricBlock(
        metric,
        group.metrics.get(metric.id) as MetricStats,
        computeMetricResults({
          type: metric.type,
          stats: group.metrics.get(metric.id) as MetricStats,
          control: control.control,
          confidence: request.confidence,
          sequentialTuningParameter: tuning,
        }),
        set?.guardrails.includes(metric.id) ?? false,
      ),
    );
  const whole = sumGroups(groups);
  const body = {
    project: project.id,
    experiment: request.experiment,
    control: control.control,
    confidence: request.confidence,
    computed_at: now.toISOString(),
    multiple_exposure_units: whole.multipleExposureUnits,
    units: whole.units,
    srm: srm(whole.units, weights),
    inference: METRIC_RESULTS_INFERENCE,
  };
  if (request.dimension === undefined) return { ...body, metrics: blocks(groups[0] as MetricStatsGroup) };
  return {
    ...body,
    dimension: request.dimension,
    values: groups.map((group) => ({
      value: group.value as string,
      multiple_exposure_units: group.multipleExposureUnits,
      units: group.units,
      srm: srm(group.units, weights),
      metrics: blocks(group),
    })),
  };
}

/** Which figures of the catalogue answer are fixed-horizon, and that `sequential` is always valid. */
export const METRIC_RESULTS_INFERENCE = inferenceNote([
  'lift_ci',
  'p_value',
  'adjusted_p_value',
  'cuped.lift_ci',
  'cuped.p_value',
  'cuped.adjusted_p_value',
]);

/**
 * What a reader of CUPED figures must know about the covariate's inputs (docs/semantics.md, "Variance
 * reduction"): the processor holds a unit's events only for RETENTION_DAYS (it refuses a longer `days` at
 * start), so pre-exposure events older than that, or that arrived while the unit's first exposure was
 * backfilled long after them, are absent from y_u rather than wrong.
 */
export const CUPED_COVERAGE_NOTE =
  "y_u sums the metric over the unit's events in [first_exposure − days, first_exposure). Events older than " +
  "the processor's state retention (RETENTION_DAYS) when the unit's first exposure was processed are absent " +
  '(the processor refuses a days beyond its retention at start); y_u is not capped. A cuped setting changed ' +
  "while the experiment runs reaches every unit within one of the processor's eviction sweeps (EVICTION_INTERVAL_MS).";

/** One metric's block: its definition as configured, the caps applied, and the figures. */
export function metricBlock(
  metric: MetricConfig,
  stats: MetricStats,
  results: MetricResults,
  setGuardrail: boolean,
) {
  return {
    metric: metric.id,
    type: metric.type,
    event: metric.event ?? null,
    numerator: metric.numerator ?? null,
    denominator: metric.denominator ?? null,
    guardrail: metric.guardrail || setGuardrail,
    direction: metric.direction,
    window: metric.window ?? null,
    cap: metric.cap ?? null,
    cap_value: stats.capValue,
    denominator_cap_value: stats.denominatorCapValue,
    cuped:
      metric.cuped === undefined || metric.type === 'conversion' || metric.type === 'ratio'
        ? null
        : { days: metric.cuped.days, note: CUPED_COVERAGE_NOTE },
    test: results.test,
    variations: results.variations,
  };
}

function srm(
  units: readonly { variation: string; units: number }[],
  weights: Record<string, number> | undefined,
): SrmResult {
  const result = srmResult(units, weights);
  return { p_value: result.p_value, observed: { ...result.observed }, expected: { ...result.expected } };
}

/** A configured split must weigh every exposed variation: otherwise the SRM test would be against a wrong split. */
function checkWeights(
  weights: Record<string, number> | undefined,
  variations: readonly string[],
  project: string,
  experiment: string,
) {
  if (weights === undefined) return;
  const missing = variations.find((v) => !(v in weights));
  if (missing !== undefined) {
    throw new StatsHttpError(
      'invalid_configuration',
      `expectedSplit of experiment ${JSON.stringify(experiment)} in project "${project}": variation ${JSON.stringify(missing)} is exposed but has no weight`,
    );
  }
}

/** Units and multiple-exposure units of the whole experiment: the sum over dimension values. */
/** A group with `name` at 0 units in its units and every metric's statistics (absent-variation.ts). */
function withZeroVariationGroup(group: MetricStatsGroup, name: string): MetricStatsGroup {
  return {
    ...group,
    units: withZeroUnits(group.units, name),
    metrics: new Map([...group.metrics].map(([id, stats]) => [id, withZeroMetricVariation(stats, name)])),
  };
}

function sumGroups(groups: readonly MetricStatsGroup[]) {
  const units = new Map<string, number>();
  let multipleExposureUnits = 0;
  for (const g of groups) {
    multipleExposureUnits += g.multipleExposureUnits;
    for (const u of g.units) units.set(u.variation, (units.get(u.variation) ?? 0) + u.units);
  }
  return { multipleExposureUnits, units: [...units].map(([variation, n]) => ({ variation, units: n })) };
}
