/**
 * The results answer, mapped from the statistics layer's output. Pure. Field names are the API's
 * (issue 5): snake_case, comparison fields null on the control, every undefined figure null.
 */
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { DEFAULT_SEQUENTIAL_TUNING_PARAMETER } from '../math/sequential-t-test.ts';
import type { ExperimentResults, VariationResult } from '../math/types.ts';
import { inferenceNote } from './inference-note.ts';

/** Which figures of the event answer are fixed-horizon, and that `sequential` is always valid. */
export const RESULTS_INFERENCE = inferenceNote([
  'lift_ci',
  'p_value',
  'adjusted_p_value',
  'value_p_value',
  'count_p_value',
]);

export interface ResultsBody {
  experiment: string;
  metric: string;
  control: string;
  /** ISO-8601 time the figures were computed. */
  computed_at: string;
  /** Units exposed to two or more variations: left out of every variation. */
  multiple_exposure_units: number;
  /** ISO-8601 time of the experiment's newest counted event (storage/newest-event-query.ts); null when none. */
  last_event_at: string | null;
  srm: { p_value: number | null; observed: Record<string, number>; expected: Record<string, number> };
  /** RESULTS_INFERENCE. */
  inference: string;
  variations: VariationBody[];
}

export type VariationBody = Omit<VariationResult, 'lift_ci'> & { lift_ci: [number, number] | null };

/** Control first, then the treatments in the order given (by name). */
export function toResultsBody(input: {
  experiment: string;
  metric: string;
  computedAt: Date;
  multipleExposureUnits: number;
  /** Unix ms of the experiment's newest counted event; null (or absent) when none. */
  lastEventAt?: number | null;
  results: ExperimentResults;
}): ResultsBody {
  const { results } = input;
  const control = results.variations.filter((v) => v.variation === results.control);
  const treatments = results.variations.filter((v) => v.variation !== results.control);
  return {
    experiment: input.experiment,
    metric: input.metric,
    control: results.control,
    computed_at: input.computedAt.toISOString(),
    multiple_exposure_units: input.multipleExposureUnits,
    last_event_at:
      input.lastEventAt === undefined || input.lastEventAt === null
        ? null
        : new Date(input.lastEventAt).toISOString(),
    srm: {
      p_value: results.srm.p_value,
      observed: { ...results.srm.observed },
      expected: { ...results.srm.expected },
    },
    inference: RESULTS_INFERENCE,
    variations: [...control, ...treatments].map((v) => ({
      variation: v.variation,
      units: v.units,
      conversions: v.conversions,
      conversion_rate: v.conversion_rate,
      value_per_unit: v.value_per_unit,
      value_variance: v.value_variance,
      count_per_unit: v.count_per_unit,
      count_variance: v.count_variance,
      mean_value: v.mean_value,
      lift: v.lift,
      lift_ci: v.lift_ci === null ? null : [v.lift_ci[0], v.lift_ci[1]],
      p_value: v.p_value,
      adjusted_p_value: v.adjusted_p_value,
      value_lift: v.value_lift,
      value_p_value: v.value_p_value,
      count_p_value: v.count_p_value,
      sequential: v.sequential,
    })),
  };
}

/**
 * SRM weights of an experiment from the project's `expectedSplit`, or undefined for an equal split.
 * Variations exposed but missing from a configured split are refused by computeResults, which the
 * HTTP layer reports as a configuration error rather than silently testing against a wrong split.
 */
export function expectedWeightsFor(
  expectedSplit: Record<string, Record<string, number>>,
  experiment: string,
): Record<string, number> | undefined {
  return Object.hasOwn(expectedSplit, experiment) ? expectedSplit[experiment] : undefined;
}

/**
 * gbstats' `sequential_tuning_parameter` of an experiment's `sequential` blocks: its metric set's, else
 * 5000 (docs/semantics.md, "Monitoring"). Validated > 0 with the project catalog at start.
 */
export function sequentialTuningParameter(project: ProjectSettings, experiment: string): number {
  const set = Object.hasOwn(project.experiments, experiment) ? project.experiments[experiment] : undefined;
  return set?.sequential_tuning_parameter ?? DEFAULT_SEQUENTIAL_TUNING_PARAMETER;
}
