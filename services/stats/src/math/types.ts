/**
 * Shapes shared by the statistics layer: the per-variation sufficient statistics it reads and the
 * results it returns. Field names of the results are snake_case because they are the HTTP response
 * body as defined in shared/brief/semantics.md; inputs are camelCase as they come out of the
 * ClickHouse adapter.
 */

/**
 * Sufficient statistics of one variation for one metric, as aggregated by ClickHouse over the
 * variation's analysed units. `x_u` is a unit's value (Σ w·value over its attributed events),
 * `k_u` its count (Σ w), `w = 1/sample`.
 */
export interface VariationStats {
  variation: string;
  /** n: analysed units (a non-negative integer). */
  units: number;
  /** Σ c_u: units with at least one attributed metric event (0 ≤ conversions ≤ units). */
  conversions: number;
  /** Σ x_u over the n units. */
  sumValue: number;
  /** Σ x_u² over the n units. */
  sumValueSq: number;
  /** Σ k_u over the n units. */
  sumCount: number;
  /** Σ k_u² over the n units. */
  sumCountSq: number;
  /** Σ w over the attributed events (not per unit). */
  sumWeight: number;
  /** Σ w·value over the attributed events (not per unit). */
  sumWeightedValue: number;
}

/** Two-sided confidence interval `[lower, upper]`. */
export type ConfidenceInterval = readonly [number, number];

/**
 * The always-valid comparison of a treatment with the control (docs/semantics.md, "Monitoring:
 * always-valid inference"): gbstats' `SequentialTwoSidedTTest` of the relative lift. Unlike the
 * fixed-horizon `lift_ci` / `p_value` beside it, it stays valid however often it is read.
 */
export interface SequentialBlock {
  /** Confidence sequence of the relative lift at the request's confidence; null when undefined. */
  lift_ci: [number, number] | null;
  /** Always-valid p-value of lift = 0; null when undefined. */
  p_value: number | null;
  /** The `sequential_tuning_parameter` used (the experiment's, else 5000). */
  tuning_parameter: number;
}

/**
 * Results of one variation. Every figure that is undefined for the data is `null` (never NaN or
 * Infinity); comparison fields are `null` on the control. See `computeResults` for each rule.
 */
export interface VariationResult {
  variation: string;
  units: number;
  conversions: number;
  conversion_rate: number | null;
  value_per_unit: number | null;
  value_variance: number | null;
  count_per_unit: number | null;
  count_variance: number | null;
  mean_value: number | null;
  lift: number | null;
  lift_ci: ConfidenceInterval | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  value_lift: number | null;
  value_p_value: number | null;
  count_p_value: number | null;
  /** Always-valid test of the conversion-rate lift (gbstats' ProportionStatistic); null on the control. */
  sequential: SequentialBlock | null;
}

/** Sample ratio mismatch check over the units of every variation, keyed by variation name. */
export interface SrmResult {
  p_value: number | null;
  observed: Record<string, number>;
  /** Expected units under the configured split (total units × weight / Σ weights). */
  expected: Record<string, number>;
}

/** What `computeResults` returns for valid input. */
export interface ExperimentResults {
  control: string;
  confidence: number;
  variations: VariationResult[];
  srm: SrmResult;
}

/** Why `computeResults` refused its input; each code maps to an HTTP 400 in the service layer. */
export const RESULTS_ERROR_CODES = [
  'unknown_control',
  'duplicate_variation',
  'invalid_confidence',
  'invalid_variation_stats',
  'invalid_expected_weights',
  'invalid_tuning_parameter',
] as const;

export type ResultsErrorCode = (typeof RESULTS_ERROR_CODES)[number];

export interface ResultsError {
  code: ResultsErrorCode;
  message: string;
}

/** Bad input is a value, not an exception. */
export type ResultsOutcome = { ok: true; value: ExperimentResults } | { ok: false; error: ResultsError };
