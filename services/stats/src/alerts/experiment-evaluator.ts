/**
 * Evaluates experiments' alert conditions from ClickHouse with the results answer's own building blocks
 * (srmResult on the analysed units per variation; loadMetricStats and computeMetricResults with the
 * experiment's tuning parameter), so an alert says exactly what GET /v1/experiments/:experiment/results
 * shows at that moment.
 *
 * Cost, for the experiments of one project due at once: one query for the units per variation of all those
 * without guardrails, from the exposures' per_variation projection (O(experiments × variations)), plus one
 * catalogue results request (at most 20 metrics) per experiment with guardrails. Few queries matter with
 * embedded ClickHouse: each waits for the sink's insert in progress and delays the next (the soak measured
 * 130 ms per query under load, one query per experiment evaluated).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { resolveControl } from '../http/results-params.ts';
import { expectedWeightsFor, sequentialTuningParameter } from '../http/results-response.ts';
import { computeMetricResults } from '../math/metric-results.ts';
import type { MetricStats } from '../math/metric-stats.ts';
import { srmResult } from '../math/srm.ts';
import { queryExperimentUnits } from '../storage/experiment-units-query.ts';
import { loadMetricStats } from '../storage/metric-query.ts';
import type { MetricStatsGroup } from '../storage/metric-query.ts';
import type { VariationUnitsRow } from '../storage/results-aggregates.ts';
import {
  ALERT_CONFIDENCE,
  guardrailMetricsOf,
  guardrailObservation,
  srmObservation,
} from './alert-conditions.ts';
import type { AlertObservation, ExperimentEvaluation } from './alert-conditions.ts';

export type EvaluationOutcome =
  | {
      kind: 'evaluated';
      evaluation: ExperimentEvaluation;
      /** Why a kind could not be checked (configuration), for the log. */
      problems: string[];
    }
  /** The stored tables disagree for now (the sink is between two inserts): evaluate again shortly. */
  | { kind: 'retry'; reason: string };

/** Every experiment's outcome, by experiment. Throws when ClickHouse fails (the caller retries them all). */
export async function evaluateExperiments(
  client: ClickHouseClient,
  project: ProjectSettings,
  experiments: readonly string[],
): Promise<Map<string, EvaluationOutcome>> {
  const outcomes = new Map<string, EvaluationOutcome>();
  const unguarded: string[] = [];
  for (const experiment of experiments) {
    const guardrails = guardrailMetricsOf(project, experiment);
    if (guardrails.metrics.length === 0) {
      unguarded.push(experiment);
      continue;
    }
    const loaded = await loadMetricStats(client, {
      project: project.id,
      experiment,
      metrics: guardrails.metrics,
      catalogue: project.metrics,
    });
    if (loaded.kind === 'inconsistent') {
      outcomes.set(experiment, { kind: 'retry', reason: loaded.reason });
      continue;
    }
    const group = loaded.kind === 'ok' ? loaded.groups[0] : undefined;
    const problems =
      guardrails.dropped === 0
        ? []
        : [
            `${guardrails.dropped} guardrail metrics beyond the first ${guardrails.metrics.length} are not watched`,
          ];
    outcomes.set(
      experiment,
      evaluationOf(project, experiment, group?.units ?? [], { group, metrics: guardrails.metrics }, problems),
    );
  }
  const units = await queryExperimentUnits(client, project.id, unguarded);
  for (const experiment of unguarded) {
    outcomes.set(
      experiment,
      evaluationOf(project, experiment, analysedUnits(units.get(experiment) ?? []), null, []),
    );
  }
  return outcomes;
}

/**
 * The conditions of one experiment from its analysed units per variation and, when it has guardrails, their
 * statistics. Pure.
 */
export function evaluationOf(
  project: ProjectSettings,
  experiment: string,
  units: readonly { variation: string; units: number }[],
  guarded: { group: MetricStatsGroup | undefined; metrics: readonly MetricConfig[] } | null,
  problems: string[],
): EvaluationOutcome {
  const base = { project: project.id, experiment };
  if (units.length === 0) {
    // No exposure stored at all (every one retracted): nothing holds.
    return {
      kind: 'evaluated',
      evaluation: {
        ...base,
        checked: { srm: true, guardrail: true },
        observations: [srmObservation(srmResult([]))],
      },
      problems,
    };
  }
  const variations = units.map((u) => u.variation);
  const observations: AlertObservation[] = [];
  const weights = expectedWeightsFor(project.expectedSplit, experiment);
  const unweighted = weights === undefined ? undefined : variations.find((v) => !(v in weights));
  if (unweighted === undefined) {
    observations.push(srmObservation(srmResult(units, weights)));
  } else {
    problems.push(
      `SRM not checked: expectedSplit has no weight for the exposed variation ${JSON.stringify(unweighted)}`,
    );
  }
  const control = resolveControl(variations, project.experiments[experiment]?.control);
  const group = guarded?.group;
  if (control.ok && guarded !== null && group !== undefined) {
    const tuning = sequentialTuningParameter(project, experiment);
    for (const metric of guarded.metrics) {
      const results = computeMetricResults({
        type: metric.type,
        stats: group.metrics.get(metric.id) as MetricStats,
        control: control.control,
        confidence: ALERT_CONFIDENCE,
        sequentialTuningParameter: tuning,
      });
      observations.push(guardrailObservation(metric, results, control.control));
    }
  } else if (!control.ok && guarded !== null) {
    problems.push(
      `guardrails not checked: no variation is the control (${JSON.stringify(project.experiments[experiment]?.control ?? 'control')}); ` +
        'set "control" in the experiment\'s metric set',
    );
  }
  return {
    kind: 'evaluated',
    evaluation: {
      ...base,
      // No guardrail watched: an open guardrail alert (its metric since removed) clears.
      checked: { srm: unweighted === undefined, guardrail: control.ok || guarded === null },
      observations,
    },
    problems,
  };
}

/**
 * Analysed units per variation, sorted by name, as the catalogue answer lists them: every variation with a
 * stored exposure row, 0 when all its units are multiple-exposure units (which the SRM test counts as 0).
 */
export function analysedUnits(rows: readonly VariationUnitsRow[]): { variation: string; units: number }[] {
  const units = new Map<string, number>();
  for (const row of rows) {
    units.set(row.variation, (units.get(row.variation) ?? 0) + (row.multipleExposure ? 0 : row.units));
  }
  return [...units]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([variation, n]) => ({ variation, units: n }));
}
