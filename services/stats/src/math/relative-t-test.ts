import studentTCdf from '@stdlib/stats-base-dists-t-cdf';
import studentTQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { ConfidenceInterval } from './types.ts';
import type { MeanSample } from './welch-t-test.ts';

/** gbstats' relative-difference t-test of a treatment against the control. */
export interface RelativeTTestResult {
  /** (mean_t − mean_c) / mean_c: gbstats' `expected`. */
  lift: number;
  /** `lift ± t_{1−α/2, df} · SE`, α = 1 − confidence: gbstats' `ci`. */
  ci: ConfidenceInterval;
  /** Two-sided p-value of lift = 0 on Student's t with `df`: gbstats' `p_value`, tail-accurate. */
  pValue: number;
  /** Welch–Satterthwaite degrees of freedom of the absolute difference, as gbstats' `dof`. */
  df: number;
}

/**
 * An arm of gbstats' relative tests: its statistic's `(mean, variance, n)` and, for a regression-adjusted
 * (CUPED) statistic, gbstats' `unadjusted_mean`, the mean before adjustment. gbstats divides the
 * difference of the means by the control's *unadjusted* mean and uses both arms' unadjusted means in the
 * delta-method variance; for every other statistic that is the mean itself, the default here.
 */
export interface TestArm extends MeanSample {
  unadjustedMean?: number;
}

/**
 * gbstats 0.8.0's frequentist `TwoSidedTTest` with `difference_type="relative"` (test_value 0),
 * the test semantics.md names for ratio metrics and for the relative CI of mean / count metrics.
 *
 * Each arm is gbstats' `(mean, variance, n)` of its statistic: the unit-level variance (n − 1
 * denominator) of a `SampleMeanStatistic`, or a `RatioStatistic`'s delta-method variance; `n` is
 * the number of analysed units. With m, v, n per arm (c = control, t = treatment) and u the
 * unadjusted mean (= m except for a CUPED arm, see `TestArm`):
 * - lift = (m_t − m_c) / u_c (the sign of a negative control is kept, as gbstats does);
 * - SE² = v_t / (u_c² n_t) + v_c u_t² / (u_c⁴ n_c) (delta method);
 * - df = (v_t/n_t + v_c/n_c)² / ((v_t/n_t)²/(n_t − 1) + (v_c/n_c)²/(n_c − 1)), Welch's df of the
 *   *absolute* difference, which gbstats uses for the relative one too;
 * - ci = lift ± t⁻¹(1 − α/2; df)·SE with α = 1 − confidence;
 * - p = 2·F_t(−|lift/SE|; df).
 * gbstats writes the p-value as 2·(1 − F_t(|t|)), which is the same number less its digits below
 * ~1e−16 absolute (it reports 0 for any p under ~1e−16); the lower tail is used here so that small
 * p-values keep their relative precision, as in `welchTTest`.
 *
 * Null rules (gbstats' "default output", expected 0, ci [0, 0], p 1, is not a result):
 * - control mean, or its unadjusted mean, is 0 (gbstats: ZERO_NEGATIVE_BASELINE_VARIATION);
 * - *either* variance is ≤ 0 (gbstats: ZERO_NEGATIVE_VARIANCE). gbstats' statistics report
 *   variance 0 for n ≤ 1 and mean 0 for n = 0, so this also covers arms of 0 or 1 unit;
 * - either n is not an integer ≥ 2, a mean or variance is not finite, or confidence is not in
 *   (0, 1): not a valid input, and nothing gbstats would be asked;
 * - a figure overflows or underflows to a non-finite value (absurd magnitudes).
 * @param treatment gbstats' `stat_b`
 * @param control gbstats' `stat_a`, the baseline the lift is relative to
 * @param confidence two-sided confidence of `ci`, in (0, 1), e.g. 0.95
 */
export function relativeTTest(
  treatment: TestArm,
  control: TestArm,
  confidence: number,
): RelativeTTestResult | null {
  if (!(Number.isFinite(confidence) && confidence > 0 && confidence < 1)) return null;
  const difference = relativeDifference(treatment, control);
  if (difference === null) return null;
  const { lift, variance } = difference;
  const se = Math.sqrt(variance);

  const vnT = treatment.variance / treatment.n;
  const vnC = control.variance / control.n;
  const df = ((vnT + vnC) * (vnT + vnC)) / ((vnT * vnT) / (treatment.n - 1) + (vnC * vnC) / (control.n - 1));

  const statistic = lift / se;
  if (!Number.isFinite(statistic) || !Number.isFinite(df) || !(df > 0) || !(se > 0)) return null;
  const alpha = 1 - confidence;
  const halfWidth = studentTQuantile(1 - alpha / 2, df) * se;
  const pValue = 2 * studentTCdf(-Math.abs(statistic), df);
  if (!Number.isFinite(halfWidth)) return null;
  return { lift, ci: [lift - halfWidth, lift + halfWidth], pValue, df };
}

/** gbstats' relative point estimate and the variance of its estimator, shared by its frequentist tests. */
export interface RelativeDifference {
  /** (m_t − m_c) / u_c: gbstats' `frequentist_diff` (u = the unadjusted mean, see `TestArm`). */
  lift: number;
  /** v_t / (u_c² n_t) + v_c u_t² / (u_c⁴ n_c): gbstats' `frequentist_variance`, relative. */
  variance: number;
}

/**
 * The lift and its delta-method variance of two gbstats arms, or null where gbstats' tests return their
 * default output or the input is not a statistic: either n not an integer ≥ 2, a mean, unadjusted mean or
 * variance not finite, the control mean or unadjusted mean 0, either variance ≤ 0, or the variance not a
 * finite positive number.
 */
export function relativeDifference(treatment: TestArm, control: TestArm): RelativeDifference | null {
  if (!isArm(treatment) || !isArm(control)) return null;
  if (control.mean === 0 || control.unadjustedMean === 0) return null;
  if (!(treatment.variance > 0 && control.variance > 0)) return null;
  const mc = control.unadjustedMean ?? control.mean;
  const mt = treatment.unadjustedMean ?? treatment.mean;
  const mc2 = mc * mc;
  const lift = (treatment.mean - control.mean) / mc;
  const variance =
    treatment.variance / (mc2 * treatment.n) + (control.variance * mt * mt) / (mc2 * mc2 * control.n);
  if (!Number.isFinite(lift) || !(variance > 0 && Number.isFinite(variance))) return null;
  return { lift, variance };
}

function isArm(arm: TestArm): boolean {
  return (
    Number.isInteger(arm.n) &&
    arm.n >= 2 &&
    Number.isFinite(arm.mean) &&
    Number.isFinite(arm.variance) &&
    (arm.unadjustedMean === undefined || Number.isFinite(arm.unadjustedMean))
  );
}
