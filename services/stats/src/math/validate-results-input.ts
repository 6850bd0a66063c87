import type { ResultsError, VariationStats } from './types.ts';

/** The request `computeResults` works on, after the caller has loaded the aggregates. */
export interface ResultsInput {
  variations: readonly VariationStats[];
  /** Name of the control variation; must be one of `variations`. */
  control: string;
  /** Two-sided confidence of `lift_ci`, in (0, 1); 0.95 when omitted. */
  confidence?: number;
  /**
   * Expected split for the SRM check, any positive scale (e.g. `{ a: 50, b: 50 }`). Must cover
   * every variation in `variations`; names with no row count as variations with 0 units. Equal
   * split over `variations` when omitted.
   */
  expectedWeights?: Record<string, number>;
  /**
   * gbstats' `sequential_tuning_parameter` of the `sequential` blocks, a finite number > 0 (the experiment's
   * configuration); DEFAULT_SEQUENTIAL_TUNING_PARAMETER (5000) when omitted.
   */
  sequentialTuningParameter?: number;
}

const SUM_FIELDS = [
  'sumValue',
  'sumValueSq',
  'sumCount',
  'sumCountSq',
  'sumWeight',
  'sumWeightedValue',
] as const satisfies readonly (keyof VariationStats)[];

/**
 * Checks a request before any statistic is computed. Returns the first problem as a value (the HTTP
 * layer maps it to 400), or null when the input is usable. Only impossible data is refused: units
 * must be a non-negative integer, 0 ≤ conversions ≤ units (an integer), squares and weights
 * non-negative, every number finite, a tuning parameter a finite number > 0.
 */
export function validateResultsInput(input: ResultsInput): ResultsError | null {
  const names = new Set<string>();
  for (const stats of input.variations) {
    if (names.has(stats.variation)) {
      return { code: 'duplicate_variation', message: `variation "${stats.variation}" appears twice` };
    }
    names.add(stats.variation);
    const problem = describeBadStats(stats);
    if (problem !== null) {
      return { code: 'invalid_variation_stats', message: `variation "${stats.variation}": ${problem}` };
    }
  }
  if (!names.has(input.control)) {
    return { code: 'unknown_control', message: `control "${input.control}" is not one of the variations` };
  }
  const { confidence } = input;
  if (confidence !== undefined && !(Number.isFinite(confidence) && confidence > 0 && confidence < 1)) {
    return { code: 'invalid_confidence', message: `confidence must be in (0, 1), got ${String(confidence)}` };
  }
  const tuning = input.sequentialTuningParameter;
  if (tuning !== undefined && !(Number.isFinite(tuning) && tuning > 0)) {
    return {
      code: 'invalid_tuning_parameter',
      message: `sequential_tuning_parameter must be a finite number > 0, got ${String(tuning)}`,
    };
  }
  if (input.expectedWeights !== undefined) {
    for (const [name, weight] of Object.entries(input.expectedWeights)) {
      if (!(Number.isFinite(weight) && weight > 0)) {
        return {
          code: 'invalid_expected_weights',
          message: `expected weight of "${name}" must be a positive finite number, got ${String(weight)}`,
        };
      }
    }
    for (const name of names) {
      if (!Object.hasOwn(input.expectedWeights, name)) {
        return { code: 'invalid_expected_weights', message: `no expected weight for variation "${name}"` };
      }
    }
  }
  return null;
}

function describeBadStats(stats: VariationStats): string | null {
  if (!(Number.isInteger(stats.units) && stats.units >= 0)) return 'units must be a non-negative integer';
  if (!(Number.isInteger(stats.conversions) && stats.conversions >= 0 && stats.conversions <= stats.units)) {
    return 'conversions must be an integer between 0 and units';
  }
  for (const field of SUM_FIELDS) {
    if (!Number.isFinite(stats[field])) return `${field} must be a finite number`;
  }
  if (stats.sumValueSq < 0 || stats.sumCountSq < 0) return 'sums of squares must be non-negative';
  if (stats.sumCount < 0 || stats.sumWeight < 0) return 'counts and weights must be non-negative';
  return null;
}
