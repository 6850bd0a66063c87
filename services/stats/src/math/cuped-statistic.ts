import { exactSum, twoProduct } from './exact-arithmetic.ts';
import { meanArm } from './mean-statistic.ts';
import { relativeDifference, relativeTTest } from './relative-t-test.ts';
import type { RelativeTTestResult, TestArm } from './relative-t-test.ts';
import { sampleMoments } from './sample-moments.ts';
import { sequentialTTest } from './sequential-t-test.ts';
import type { SequentialTTestResult } from './sequential-t-test.ts';

/**
 * Sufficient statistics of a `mean` or `count` metric with its CUPED covariate in one variation
 * (docs/semantics.md, "Variance reduction (CUPED)"): per unit u, v_u is the metric's (capped) value after
 * first exposure and y_u the same metric over the lookback before it (0 without events); every analysed
 * unit counts in `units`.
 */
export interface CupedSums {
  /** n: analysed units (a non-negative integer). */
  units: number;
  /** Σ v_u and Σ v_u². */
  sum: number;
  sumSq: number;
  /** Σ y_u, Σ y_u² and Σ v_u·y_u. */
  covariateSum: number;
  covariateSumSq: number;
  crossSum: number;
}

/** One arm's regression-adjusted figures, null where gbstats has a placeholder 0. */
export interface CupedArmEstimate {
  /** mean(v) − θ·mean(y): gbstats' `RegressionAdjustedStatistic.mean`; null when n = 0. */
  mean: number | null;
  /** var(v) + θ²·var(y) − 2θ·cov(v, y) (n − 1 denominators): its `variance`; null when n < 2. */
  variance: number | null;
}

/** gbstats' CUPED comparison of a treatment with the control. */
export interface CupedComparison {
  /** θ pooled over the two arms; 0 where gbstats falls back to the unadjusted statistics (see `cupedTheta`). */
  theta: number;
  treatment: CupedArmEstimate;
  control: CupedArmEstimate;
  /**
   * gbstats' point estimate (adjusted mean_t − adjusted mean_c) / unadjusted mean_c: the relative lift of
   * the adjusted means, divided by the control's *unadjusted* mean as gbstats does (so it is not
   * treatment.mean / control.mean − 1). Null when either arm has no units or the control's unadjusted
   * mean is 0. Equal to `test.lift` and `sequential.lift` wherever they are defined.
   */
  lift: number | null;
  /** gbstats' TwoSidedTTest (relative) on the adjusted statistics; null where gbstats gives its default output. */
  test: RelativeTTestResult | null;
  /** gbstats' SequentialTwoSidedTTest (relative) on the adjusted statistics; null likewise. */
  sequential: SequentialTTestResult | null;
  /**
   * The variance reduction achieved: 1 − V_adjusted / V_unadjusted, where V is gbstats' `test.variance`
   * (`frequentist_variance`), the delta-method variance of the relative-lift estimator, of the adjusted
   * comparison and of the same comparison without the covariate (SampleMeanStatistic arms). So 0.5 means
   * the lift's CI is √0.5 ≈ 0.71 times as wide (at equal degrees of freedom); about ρ² for a covariate of
   * correlation ρ; 0 exactly when θ = 0; it can be slightly negative, as the pooled θ is not each arm's
   * best. gbstats reports no such figure; this is liftstream's. Null unless both comparisons are defined.
   */
  varianceReduction: number | null;
}

/**
 * gbstats 0.8.0's θ of a CUPED comparison (`compute_theta`): the covariance of v and y over the units of
 * both arms pooled, divided by the pooled variance of y,
 *   θ = cov_pooled(v, y) / var_pooled(y), each with the n_t + n_c − 1 denominator,
 * pooled as one sample (the arms' means are not removed first, as gbstats' joint statistic does not).
 * gbstats returns 0, and its tests then fall back to the unadjusted statistics, when the pooled variance of
 * y or of v is 0 (which covers a covariate of all 0 or all equal, and n_t + n_c ≤ 1); θ is also 0 when
 * the pooled covariance is exactly 0.
 *
 * The variances and the covariance are formed from exact products and rounded once (`sampleMoments`,
 * `sampleCovariance`), so θ is within a few ulps of the exact θ of the given sums; gbstats' textbook
 * Σxy − ΣxΣy/n agrees wherever its own cancellation costs less than ~1e−10 (the fixtures check both).
 * Null when the sums are not a statistic.
 */
export function cupedTheta(treatment: CupedSums, control: CupedSums): number | null {
  if (!isValid(treatment) || !isValid(control)) return null;
  const n = treatment.units + control.units;
  // gbstats' joint statistic adds the two arms' sums (a.sum + b.sum: float addition commutes).
  const sum = control.sum + treatment.sum;
  const covariateSum = control.covariateSum + treatment.covariateSum;
  const post = sampleMoments(n, sum, control.sumSq + treatment.sumSq).variance;
  const pre = sampleMoments(n, covariateSum, control.covariateSumSq + treatment.covariateSumSq).variance;
  if (post === null || pre === null || post === 0 || pre === 0) return 0;
  const covariance = sampleCovariance(n, sum, covariateSum, control.crossSum + treatment.crossSum) as number;
  const theta = covariance / pre;
  return Number.isFinite(theta) ? theta : null;
}

/**
 * One arm's gbstats `RegressionAdjustedStatistic` at `theta`, as an arm of its tests: mean and variance as
 * `CupedArmEstimate`, and the unadjusted (post) mean the relative tests divide by. θ = 0 gives the arm's
 * `SampleMeanStatistic` of v, which is what gbstats falls back to. Null where a figure is undefined (n < 2)
 * or the sums are not a statistic.
 */
export function cupedArm(sums: CupedSums, theta: number): TestArm | null {
  if (!isValid(sums) || !Number.isFinite(theta)) return null;
  const post = meanArm(postSums(sums));
  if (post === null) return null;
  if (theta === 0) return { ...post, unadjustedMean: post.mean };
  const { mean, variance } = adjusted(sums, theta);
  if (mean === null || variance === null) return null;
  return { mean, variance, n: sums.units, unadjustedMean: post.mean };
}

/**
 * gbstats 0.8.0's CUPED comparison of a treatment with the control (docs/semantics.md, "Variance reduction
 * (CUPED)"): each arm a `RegressionAdjustedStatistic` with the pooled θ of `cupedTheta`, then the
 * relative-difference `TwoSidedTTest` (`relativeTTest`) and `SequentialTwoSidedTTest` (`sequentialTTest`)
 * on them. gbstats' tests take the adjusted means and variances, but divide by the control's unadjusted
 * mean and use both unadjusted means in the delta-method variance (`TestArm`); the degrees of freedom are
 * Welch's of the adjusted variances.
 *
 * Null rules, as gbstats' default output (for the tests; `lift` and the arms' figures as documented on
 * them): either arm has fewer than 2 units, the control's adjusted or unadjusted mean is 0, either adjusted
 * variance is ≤ 0 (e.g. v = a·y on every unit), or the confidence / tuning parameter is out of range. The
 * whole comparison is null when the sums are not a statistic.
 * @param confidence two-sided confidence of both intervals, in (0, 1)
 * @param tuningParameter gbstats' `sequential_tuning_parameter` (finite, > 0)
 */
export function cupedComparison(
  treatment: CupedSums,
  control: CupedSums,
  confidence: number,
  tuningParameter: number,
): CupedComparison | null {
  const theta = cupedTheta(treatment, control);
  if (theta === null) return null;
  const t = cupedArm(treatment, theta);
  const c = cupedArm(control, theta);
  const estimateT = estimate(treatment, theta);
  const estimateC = estimate(control, theta);
  const postT = meanArm(postSums(treatment));
  const postC = meanArm(postSums(control));
  const withAdjustment = t === null || c === null ? null : relativeDifference(t, c);
  const withoutAdjustment = postT === null || postC === null ? null : relativeDifference(postT, postC);
  return {
    theta,
    treatment: estimateT,
    control: estimateC,
    lift: pointEstimate(
      estimateT.mean,
      estimateC.mean,
      sampleMoments(control.units, control.sum, control.sumSq).mean,
    ),
    test: t === null || c === null ? null : relativeTTest(t, c, confidence),
    sequential: t === null || c === null ? null : sequentialTTest(t, c, confidence, tuningParameter),
    varianceReduction:
      withAdjustment === null || withoutAdjustment === null
        ? null
        : 1 - withAdjustment.variance / withoutAdjustment.variance,
  };
}

/**
 * Sample covariance with the n − 1 denominator from n, Σx, Σy and Σxy: (n·Σxy − Σx·Σy) / (n·(n − 1)), the
 * numerator formed from exact products and rounded once, as `sampleMoments` does for a variance. Null when
 * n < 2.
 */
function sampleCovariance(n: number, sumX: number, sumY: number, sumXY: number): number | null {
  if (n < 2) return null;
  const scaled = twoProduct(n, sumXY);
  const product = twoProduct(sumX, sumY);
  // Divide in two steps: n·(n − 1) itself is not exact above ~9.5e7 units.
  return exactSum([scaled.hi, scaled.lo, -product.hi, -product.lo]) / n / (n - 1);
}

/** An arm's adjusted mean and variance at θ ≠ 0, in gbstats' order of operations. */
function adjusted(sums: CupedSums, theta: number): CupedArmEstimate {
  const post = sampleMoments(sums.units, sums.sum, sums.sumSq);
  const pre = sampleMoments(sums.units, sums.covariateSum, sums.covariateSumSq);
  const mean = post.mean === null || pre.mean === null ? null : post.mean - theta * pre.mean;
  const covariance = sampleCovariance(sums.units, sums.sum, sums.covariateSum, sums.crossSum);
  if (post.variance === null || pre.variance === null || covariance === null) return { mean, variance: null };
  const variance = post.variance + theta * theta * pre.variance - 2 * theta * covariance;
  // Var(v − θy) ≥ 0 for consistent sums; a negative value is rounding where v is nearly a·y (gbstats: ≤ 0).
  return { mean, variance: variance > 0 ? variance : 0 };
}

/** An arm's figures at θ: the unadjusted mean and variance of v where gbstats falls back (θ = 0). */
function estimate(sums: CupedSums, theta: number): CupedArmEstimate {
  return theta === 0 ? sampleMoments(sums.units, sums.sum, sums.sumSq) : adjusted(sums, theta);
}

/** gbstats' `frequentist_diff` (relative), as in `relativeDifference`, where it is a number. */
function pointEstimate(
  treatment: number | null,
  control: number | null,
  unadjustedControl: number | null,
): number | null {
  if (treatment === null || control === null || unadjustedControl === null || unadjustedControl === 0) {
    return null;
  }
  const lift = (treatment - control) / unadjustedControl;
  return Number.isFinite(lift) ? lift : null;
}

function postSums(sums: CupedSums) {
  return { units: sums.units, sum: sums.sum, sumSq: sums.sumSq };
}

function isValid(sums: CupedSums): boolean {
  if (!(Number.isInteger(sums.units) && sums.units >= 0)) return false;
  const values = [sums.sum, sums.sumSq, sums.covariateSum, sums.covariateSumSq, sums.crossSum];
  return values.every(Number.isFinite) && sums.sumSq >= 0 && sums.covariateSumSq >= 0;
}
