import { holmAdjust } from './holm.ts';
import { testStatistics } from './arm-statistics.ts';
import { proportionArm } from './proportion-statistic.ts';
import { liftConfidenceInterval, relativeLift } from './relative-lift.ts';
import { sampleMoments } from './sample-moments.ts';
import type { SampleMoments } from './sample-moments.ts';
import {
  DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
  sequentialBlock,
  sequentialTTest,
} from './sequential-t-test.ts';
import { srmResult } from './srm.ts';
import { twoProportionZTest } from './two-proportion-z-test.ts';
import type { ResultsOutcome, VariationResult, VariationStats } from './types.ts';
import { validateResultsInput } from './validate-results-input.ts';
import type { ResultsInput } from './validate-results-input.ts';
import { welchTTest } from './welch-t-test.ts';

export type { ResultsInput } from './validate-results-input.ts';

/** Confidence of `lift_ci` when the request does not give one. */
export const DEFAULT_CONFIDENCE = 0.95;

/**
 * Per-variation results of one metric of one experiment, as defined in shared/brief/semantics.md.
 *
 * Descriptive figures, for every variation:
 * - `conversion_rate` = conversions / units; null when units = 0.
 * - `value_per_unit`, `count_per_unit`: mean of x_u / k_u over all units; null when units = 0.
 * - `value_variance`, `count_variance`: n − 1 sample variance; null when units < 2.
 * - `mean_value` = Σ w·value / Σ w over attributed events; null when Σ w = 0.
 *
 * Comparisons with the control (null on the control itself):
 * - `lift` = rate_t / rate_c − 1; null when either rate is null or the control rate is 0.
 * - `lift_ci`: delta-method interval at `confidence`; null when `lift` is null.
 * - `p_value`: pooled two-proportion z-test; null when either arm has no units or nobody/everybody
 *   converted in both arms together.
 * - `adjusted_p_value`: Holm over the treatments whose `p_value` is not null; null where `p_value` is.
 * - `value_lift`: value_per_unit_t / value_per_unit_c − 1; null when either is null or control's is 0.
 * - `value_p_value`, `count_p_value`: Welch t-test; null when either arm has fewer than 2 units or
 *   both variances are 0.
 * - `sequential`: the always-valid test of the conversion-rate lift, gbstats' SequentialTwoSidedTTest
 *   on two ProportionStatistics (`proportionArm`) with `sequentialTuningParameter`: its
 *   confidence sequence at `confidence` and p-value, null where that test is (either arm under 2 units,
 *   the control rate 0, either rate 0 or 1), with the tuning parameter used.
 * All of these but `sequential` are fixed-horizon: valid when read once, at a sample size fixed in advance.
 *
 * `srm` compares units per variation with `expectedWeights` (equal split when omitted); names that
 * are weighted but have no row are counted as 0 observed units, which is the strongest mismatch of
 * all. Its p-value is null with fewer than two variations or no units.
 *
 * Bad input (unknown control, duplicate names, impossible counts, confidence outside (0, 1), missing
 * or non-positive weights) is returned as `{ ok: false, error }`, never thrown.
 */
export function computeResults(input: ResultsInput): ResultsOutcome {
  const error = validateResultsInput(input);
  if (error !== null) return { ok: false, error };
  const confidence = input.confidence ?? DEFAULT_CONFIDENCE;
  const tuning = input.sequentialTuningParameter ?? DEFAULT_SEQUENTIAL_TUNING_PARAMETER;
  const described = input.variations.map(describe);
  const control = described.find((d) => d.stats.variation === input.control);
  if (control === undefined) {
    // Unreachable after validation; kept so the type narrows without a non-null assertion.
    return { ok: false, error: { code: 'unknown_control', message: `control "${input.control}" not found` } };
  }

  const results = described.map((d) => (d === control ? d.result : compare(d, control, confidence, tuning)));
  applyHolm(results, input.control);
  return {
    ok: true,
    value: {
      control: input.control,
      confidence,
      variations: results,
      srm: srmResult(input.variations, input.expectedWeights),
    },
  };
}

interface Described {
  stats: VariationStats;
  value: SampleMoments;
  count: SampleMoments;
  result: VariationResult;
}

function describe(stats: VariationStats): Described {
  const value = sampleMoments(stats.units, stats.sumValue, stats.sumValueSq);
  const count = sampleMoments(stats.units, stats.sumCount, stats.sumCountSq);
  return {
    stats,
    value,
    count,
    result: {
      variation: stats.variation,
      units: stats.units,
      conversions: stats.conversions,
      conversion_rate: stats.units > 0 ? stats.conversions / stats.units : null,
      value_per_unit: value.mean,
      value_variance: value.variance,
      count_per_unit: count.mean,
      count_variance: count.variance,
      mean_value: stats.sumWeight > 0 ? stats.sumWeightedValue / stats.sumWeight : null,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      value_lift: null,
      value_p_value: null,
      count_p_value: null,
      sequential: null,
    },
  };
}

function compare(
  treatment: Described,
  control: Described,
  confidence: number,
  tuning: number,
): VariationResult {
  return {
    ...treatment.result,
    lift: relativeLift(treatment.result.conversion_rate, control.result.conversion_rate),
    lift_ci: liftConfidenceInterval(treatment.stats, control.stats, confidence),
    p_value: twoProportionZTest(treatment.stats, control.stats)?.pValue ?? null,
    value_lift: relativeLift(treatment.value.mean, control.value.mean),
    value_p_value: welchPValue(treatment.value, control.value, treatment.stats.units, control.stats.units),
    count_p_value: welchPValue(treatment.count, control.count, treatment.stats.units, control.stats.units),
    sequential: sequentialBlock(
      testStatistics(proportionArm, treatment.stats, control.stats, (t, c) =>
        sequentialTTest(t, c, confidence, tuning),
      ),
      tuning,
    ),
  };
}

function welchPValue(
  treatment: SampleMoments,
  control: SampleMoments,
  nT: number,
  nC: number,
): number | null {
  if (treatment.mean === null || treatment.variance === null) return null;
  if (control.mean === null || control.variance === null) return null;
  const test = welchTTest(
    { mean: treatment.mean, variance: treatment.variance, n: nT },
    { mean: control.mean, variance: control.variance, n: nC },
  );
  return test?.pValue ?? null;
}

/** Fills `adjusted_p_value` in place: one family per request, the treatments with a p-value. */
function applyHolm(results: VariationResult[], controlName: string): void {
  const tested = results.filter((r) => r.variation !== controlName && r.p_value !== null);
  const adjusted = holmAdjust(tested.map((r) => r.p_value as number));
  tested.forEach((r, i) => {
    r.adjusted_p_value = adjusted[i] as number;
  });
}
