/**
 * Per-variation results of one catalogue metric (docs/semantics.md, "Second edition"), from its sufficient
 * statistics. One shape for every type, so a page or a script reads every metric the same way:
 *
 * | type       | estimate                  | variance (unit level)        | p_value                  | lift_ci                     |
 * | conversion | conversions / n           | rate·(1 − rate)              | pooled two-proportion z  | delta method, normal (as the event results) |
 * | mean/count | mean of v_u (capped)      | sample variance (n − 1)      | Welch's t (absolute)     | gbstats TwoSidedTTest, relative |
 * | ratio      | Σ N_u / Σ D_u             | gbstats RatioStatistic (delta) | gbstats TwoSidedTTest, relative | gbstats TwoSidedTTest, relative |
 *
 * `lift` = estimate_t / estimate_c − 1 (null when the control's is 0 or null). `adjusted_p_value`: Holm over
 * the treatments of this metric only (semantics: never across metrics). Undefined figures are null.
 *
 * Those are fixed-horizon figures. Every treatment also carries `sequential`, the always-valid comparison
 * (docs/semantics.md, "Monitoring"): gbstats' SequentialTwoSidedTTest of the relative lift on the type's
 * gbstats statistic: ProportionStatistic (conversion), SampleMeanStatistic (mean, count), RatioStatistic
 * (ratio); null on the control.
 *
 * A mean or count metric whose every variation carries its CUPED covariate (`MetricVariationStats.covariate`)
 * also gets a `cuped` block per variation (docs/semantics.md, "Variance reduction (CUPED)"; see
 * `CupedResult`); every other metric has `cuped: null`. It adds to the figures above and changes none.
 */
import type { MetricType } from '../../../../shared/projects/metric-catalog.ts';
import { cupedComparison } from './cuped-statistic.ts';
import type { CupedComparison, CupedSums } from './cuped-statistic.ts';
import { holmAdjust } from './holm.ts';
import { testStatistics } from './arm-statistics.ts';
import { meanArm, meanRelativeTTest } from './mean-statistic.ts';
import type { MeanSums } from './mean-statistic.ts';
import type { MetricStats, MetricVariationStats } from './metric-stats.ts';
import { proportionArm } from './proportion-statistic.ts';
import { ratioArm, ratioRelativeTTest, ratioStatistic } from './ratio-statistic.ts';
import type { RatioSums } from './ratio-statistic.ts';
import { liftConfidenceInterval, relativeLift } from './relative-lift.ts';
import { sampleMoments } from './sample-moments.ts';
import {
  DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
  sequentialBlock,
  sequentialTTest,
} from './sequential-t-test.ts';
import type { SequentialTTestResult } from './sequential-t-test.ts';
import { twoProportionZTest } from './two-proportion-z-test.ts';
import type { SequentialBlock } from './types.ts';
import type { MeanSample } from './welch-t-test.ts';
import { welchTTest } from './welch-t-test.ts';

/** Which test produced `p_value`, named in the answer so a reader knows what was computed. */
export type MetricTest = 'two_proportion_z' | 'welch_t' | 'gbstats_relative_t';

export interface MetricVariationResult {
  variation: string;
  units: number;
  /** Units with a counted event (of the numerator, for a ratio). */
  conversions: number;
  /** Σ v_u (Σ N_u for a ratio) and, for a ratio, Σ D_u. */
  sum: number;
  denominator_sum: number | null;
  estimate: number | null;
  variance: number | null;
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  /** The always-valid comparison; null on the control. */
  sequential: SequentialBlock | null;
  /** The CUPED figures; null unless the metric is a mean or count whose every variation has a covariate. */
  cuped: CupedResult | null;
}

/**
 * A variation's CUPED figures (docs/semantics.md, "Variance reduction (CUPED)"): gbstats 0.8.0's
 * RegressionAdjustedStatistic of each arm, θ pooled over the treatment and the control
 * (`cupedComparison`), compared by gbstats' relative TwoSidedTTest and SequentialTwoSidedTTest. θ belongs
 * to a comparison, so with several treatments the control's adjusted figures differ per treatment: each
 * treatment's block carries the control's (`control_estimate`), and the control's own block has them only
 * when there is exactly one treatment (else null). Comparison fields are null on the control.
 */
export interface CupedResult {
  /** The arm's adjusted mean, mean(v) − θ·mean(y); null when n = 0 (or, on the control, θ is not unique). */
  estimate: number | null;
  /** Its unit-level variance, var(v) + θ²·var(y) − 2θ·cov(v, y); null when n < 2 (or θ is not unique). */
  variance: number | null;
  /** θ of the comparison (0 when gbstats falls back to the unadjusted statistics); on the control as above. */
  theta: number | null;
  /** The control's adjusted mean under this comparison's θ; null on the control. */
  control_estimate: number | null;
  /**
   * gbstats' point estimate: (estimate − control_estimate) / the control's *unadjusted* mean (gbstats divides
   * by it), so not estimate / control_estimate − 1. Null when undefined.
   */
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  /** Holm over this metric's treatments' CUPED p-values, as `adjusted_p_value` is over the unadjusted ones. */
  adjusted_p_value: number | null;
  /** gbstats' SequentialTwoSidedTTest on the adjusted statistics; null on the control. */
  sequential: SequentialBlock | null;
  /**
   * 1 − V_adjusted / V_unadjusted, V the delta-method variance of the relative-lift estimator (gbstats'
   * `frequentist_variance`) with and without the covariate: the share of the lift's variance removed (so the
   * interval narrows by about √(1 − it)). 0 when θ = 0; may be slightly negative. Null unless both are defined.
   */
  variance_reduction: number | null;
}

export interface MetricResults {
  test: MetricTest;
  /** Control first, then the treatments by name. */
  variations: MetricVariationResult[];
}

export function computeMetricResults(input: {
  type: MetricType;
  stats: MetricStats;
  control: string;
  confidence: number;
  /**
   * gbstats' `sequential_tuning_parameter`, a finite number > 0 (validated with the experiment's
   * configuration); 5000 when omitted.
   */
  sequentialTuningParameter?: number;
}): MetricResults {
  const { type, control, confidence } = input;
  const tuning = input.sequentialTuningParameter ?? DEFAULT_SEQUENTIAL_TUNING_PARAMETER;
  const described = input.stats.variations.map((s) => describe(type, s));
  const base = described.find((d) => d.result.variation === control);
  const results = described.map((d) =>
    d === base || base === undefined ? d.result : compare(type, d, base, confidence, tuning),
  );
  const tested = results.filter((r) => r.variation !== control && r.p_value !== null);
  holmAdjust(tested.map((r) => r.p_value as number)).forEach((p, i) => {
    (tested[i] as MetricVariationResult).adjusted_p_value = p;
  });
  if (base !== undefined && usesCuped(type, input.stats.variations)) {
    addCuped(described, base, results, confidence, tuning);
  }
  return {
    test: type === 'conversion' ? 'two_proportion_z' : type === 'ratio' ? 'gbstats_relative_t' : 'welch_t',
    variations: [
      ...results.filter((r) => r.variation === control),
      ...results.filter((r) => r.variation !== control),
    ],
  };
}

interface Described {
  stats: MetricVariationStats;
  result: MetricVariationResult;
}

/** A variation's ratio sums as RatioStatistic takes them. */
export function ratioSums(s: MetricVariationStats): RatioSums {
  return {
    units: s.units,
    sumNumerator: s.sum,
    sumNumeratorSq: s.sumSq,
    sumDenominator: s.denominatorSum,
    sumDenominatorSq: s.denominatorSumSq,
    sumProduct: s.crossSum,
  };
}

function describe(type: MetricType, stats: MetricVariationStats): Described {
  let estimate: number | null;
  let variance: number | null;
  if (type === 'conversion') {
    estimate = stats.units > 0 ? stats.conversions / stats.units : null;
    variance = estimate === null ? null : estimate * (1 - estimate);
  } else if (type === 'ratio') {
    ({ mean: estimate, variance } = ratioStatistic(ratioSums(stats)));
  } else {
    ({ mean: estimate, variance } = sampleMoments(stats.units, stats.sum, stats.sumSq));
  }
  return {
    stats,
    result: {
      variation: stats.variation,
      units: stats.units,
      conversions: stats.conversions,
      sum: stats.sum,
      denominator_sum: type === 'ratio' ? stats.denominatorSum : null,
      estimate,
      variance,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      sequential: null,
      cuped: null,
    },
  };
}

function compare(
  type: MetricType,
  t: Described,
  c: Described,
  confidence: number,
  tuning: number,
): MetricVariationResult {
  const lift = relativeLift(t.result.estimate, c.result.estimate);
  const sequential = sequentialBlock(sequentialTest(type, t.stats, c.stats, confidence, tuning), tuning);
  if (type === 'conversion') {
    const ci = liftConfidenceInterval(t.stats, c.stats, confidence);
    return {
      ...t.result,
      lift,
      lift_ci: ci === null ? null : [ci[0], ci[1]],
      p_value: twoProportionZTest(t.stats, c.stats)?.pValue ?? null,
      sequential,
    };
  }
  if (type === 'ratio') {
    const test = ratioRelativeTTest(ratioSums(t.stats), ratioSums(c.stats), confidence);
    return {
      ...t.result,
      lift,
      lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
      p_value: test?.pValue ?? null,
      sequential,
    };
  }
  const test = meanRelativeTTest(meanSums(t.stats), meanSums(c.stats), confidence);
  return {
    ...t.result,
    lift,
    lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
    p_value: welchPValue(t, c),
    sequential,
  };
}

/** gbstats' sequential test on the type's gbstats statistic. */
function sequentialTest(
  type: MetricType,
  t: MetricVariationStats,
  c: MetricVariationStats,
  confidence: number,
  tuning: number,
): SequentialTTestResult | null {
  const test = (a: MeanSample, b: MeanSample) => sequentialTTest(a, b, confidence, tuning);
  if (type === 'conversion') return testStatistics(proportionArm, t, c, test);
  if (type === 'ratio') return testStatistics(ratioArm, ratioSums(t), ratioSums(c), test);
  return testStatistics(meanArm, meanSums(t), meanSums(c), test);
}

/** CUPED applies to a mean or count metric when every variation has its covariate sums. */
function usesCuped(type: MetricType, variations: readonly MetricVariationStats[]): boolean {
  return (type === 'mean' || type === 'count') && variations.every((v) => v.covariate !== undefined);
}

/** A variation's CUPED sums; only called once `usesCuped` holds. */
function cupedSums(s: MetricVariationStats): CupedSums {
  const covariate = s.covariate ?? { sum: 0, sumSq: 0, crossSum: 0 };
  return {
    units: s.units,
    sum: s.sum,
    sumSq: s.sumSq,
    covariateSum: covariate.sum,
    covariateSumSq: covariate.sumSq,
    crossSum: covariate.crossSum,
  };
}

/**
 * Sets `cuped` on every result (`results` in the order of `described`): each treatment's comparison with the
 * control, Holm over the treatments' CUPED p-values, and the control's own block.
 */
function addCuped(
  described: readonly Described[],
  base: Described,
  results: MetricVariationResult[],
  confidence: number,
  tuning: number,
): void {
  const comparisons: CupedComparison[] = [];
  described.forEach((d, i) => {
    if (d === base) return;
    const comparison = cupedComparison(cupedSums(d.stats), cupedSums(base.stats), confidence, tuning);
    (results[i] as MetricVariationResult).cuped = treatmentCuped(comparison, tuning);
    if (comparison !== null) comparisons.push(comparison);
  });
  const tested = results.filter((r) => r !== base.result && r.cuped?.p_value != null);
  holmAdjust(tested.map((r) => r.cuped?.p_value as number)).forEach((p, i) => {
    (tested[i]?.cuped as CupedResult).adjusted_p_value = p;
  });
  // θ is a comparison's: the control's adjusted figures are its own only when there is one comparison.
  const only = described.length === 2 && comparisons.length === 1 ? comparisons[0] : undefined;
  (results[described.indexOf(base)] as MetricVariationResult).cuped = {
    ...emptyCuped(),
    estimate: only?.control.mean ?? null,
    variance: only?.control.variance ?? null,
    theta: only?.theta ?? null,
  };
}

function treatmentCuped(comparison: CupedComparison | null, tuning: number): CupedResult {
  if (comparison === null) return { ...emptyCuped(), sequential: sequentialBlock(null, tuning) };
  const { test } = comparison;
  return {
    estimate: comparison.treatment.mean,
    variance: comparison.treatment.variance,
    theta: comparison.theta,
    control_estimate: comparison.control.mean,
    lift: comparison.lift,
    lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
    p_value: test?.pValue ?? null,
    adjusted_p_value: null,
    sequential: sequentialBlock(comparison.sequential, tuning),
    variance_reduction: comparison.varianceReduction,
  };
}

function emptyCuped(): CupedResult {
  return {
    estimate: null,
    variance: null,
    theta: null,
    control_estimate: null,
    lift: null,
    lift_ci: null,
    p_value: null,
    adjusted_p_value: null,
    sequential: null,
    variance_reduction: null,
  };
}

function meanSums(s: MetricVariationStats): MeanSums {
  return { units: s.units, sum: s.sum, sumSq: s.sumSq };
}

function welchPValue(t: Described, c: Described): number | null {
  const { estimate: mt, variance: vt } = t.result;
  const { estimate: mc, variance: vc } = c.result;
  if (mt === null || vt === null || mc === null || vc === null) return null;
  return (
    welchTTest({ mean: mt, variance: vt, n: t.stats.units }, { mean: mc, variance: vc, n: c.stats.units })
      ?.pValue ?? null
  );
}
