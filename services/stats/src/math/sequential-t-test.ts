import { relativeDifference } from './relative-t-test.ts';
import type { TestArm } from './relative-t-test.ts';
import type { ConfidenceInterval, SequentialBlock } from './types.ts';

/** gbstats' `SequentialConfig.sequential_tuning_parameter` default, and docs/semantics.md's. */
export const DEFAULT_SEQUENTIAL_TUNING_PARAMETER = 5000;

/** gbstats' always-valid relative-difference test of a treatment against the control. */
export interface SequentialTTestResult {
  /** (mean_t − mean_c) / mean_c: gbstats' `expected`, the same point estimate as `relativeTTest`. */
  lift: number;
  /** Confidence sequence at the confidence asked for: gbstats' `ci`. */
  ci: ConfidenceInterval;
  /** Always-valid p-value (1 / e-value, at most 1): gbstats' `p_value`. */
  pValue: number;
}

/**
 * gbstats 0.8.0's ρ of the confidence sequence (eq. 161 of Waudby-Smith et al. 2023, arXiv 2103.06476v7):
 * ρ = √((−2·ln α + ln(−2·ln α + 1)) / τ), which makes the sequence tightest when the two arms together
 * hold about τ units. α = 1 − confidence; τ the tuning parameter. Not finite for α or τ outside their range.
 */
export function sequentialRho(alpha: number, tuningParameter: number): number {
  const minusTwoLogAlpha = -2 * Math.log(alpha);
  return Math.sqrt((minusTwoLogAlpha + Math.log(minusTwoLogAlpha + 1)) / tuningParameter);
}

/**
 * gbstats 0.8.0's frequentist `SequentialTwoSidedTTest` with `difference_type="relative"` (test_value 0):
 * the asymptotic confidence sequence of Waudby-Smith et al., which stays valid however often it is read
 * (docs/semantics.md, "Monitoring: always-valid inference").
 *
 * Each arm is gbstats' `(mean, variance, n)` of its statistic, as for `relativeTTest`: the unit-level
 * variance of a `SampleMeanStatistic` (n − 1), of a `ProportionStatistic` (rate·(1 − rate)), a
 * `RatioStatistic`'s delta-method variance or a `RegressionAdjustedStatistic`'s (with its unadjusted mean,
 * see `TestArm`). With m, v, n per arm (c = control, t = treatment), u the unadjusted mean (= m but for
 * CUPED), α = 1 − confidence, τ the tuning parameter and N = n_c + n_t:
 * - lift = (m_t − m_c) / u_c (signed control, as gbstats);
 * - V = v_t / (u_c² n_t) + v_c u_t² / (u_c⁴ n_c), the delta-method variance (`relativeDifference`);
 * - ρ = `sequentialRho(α, τ)`;
 * - ci = lift ± √(V·N) · √(2(Nρ² + 1) · ln(√(Nρ² + 1) / α) / (Nρ)²) (eq. 9);
 * - p = min(1, √(Nρ² + 1) · exp(−ρ²·st2 / (2(Nρ² + 1)))) with st2 = lift²·N / V (eq. 155).
 * No degrees of freedom: the sequence is normal-asymptotic. gbstats evaluates p as 1 / (exp(x) / √(…));
 * here it is exp(½·ln(Nρ² + 1) − x), the same number (to ~1e−13 relative) that keeps its digits where
 * gbstats' exp(x) overflows (x > 709.8) and it reports 0 for p-values down to ~1e−308.
 *
 * Null rules (gbstats' "default output", expected 0, ci [0, 0], p 1, is not a result):
 * - control mean, or its unadjusted mean, is 0 (gbstats: ZERO_NEGATIVE_BASELINE_VARIATION);
 * - either variance is ≤ 0 (gbstats: ZERO_NEGATIVE_VARIANCE); gbstats' statistics report variance 0
 *   for n ≤ 1 (a proportion of one unit is 0 or 1), so this covers arms of 0 or 1 unit;
 * - either n is not an integer ≥ 2, a mean or variance is not finite, confidence is not in (0, 1), or
 *   τ is not a finite number > 0: not a valid input, nothing gbstats would be asked (the experiment
 *   configuration refuses such a τ at start);
 * - a figure overflows to a non-finite value (absurd magnitudes).
 * @param treatment gbstats' `stat_b`
 * @param control gbstats' `stat_a`, the baseline the lift is relative to
 * @param confidence two-sided confidence of the sequence, in (0, 1), e.g. 0.95
 * @param tuningParameter τ, gbstats' `sequential_tuning_parameter` (units, both arms together)
 */
export function sequentialTTest(
  treatment: TestArm,
  control: TestArm,
  confidence: number,
  tuningParameter: number = DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
): SequentialTTestResult | null {
  if (!(Number.isFinite(confidence) && confidence > 0 && confidence < 1)) return null;
  if (!(Number.isFinite(tuningParameter) && tuningParameter > 0)) return null;
  const difference = relativeDifference(treatment, control);
  if (difference === null) return null;
  const { lift, variance } = difference;

  const alpha = 1 - confidence;
  const n = treatment.n + control.n;
  const rho = sequentialRho(alpha, tuningParameter);
  const rho2 = rho * rho;
  const tr2p1 = n * rho2 + 1;
  const halfWidth =
    Math.sqrt(variance * n) *
    Math.sqrt((2 * tr2p1 * Math.log(Math.sqrt(tr2p1) / alpha)) / (n * rho * (n * rho)));
  const st2 = (lift * lift * n) / variance;
  const logPValue = 0.5 * Math.log(tr2p1) - (rho2 * st2) / (2 * tr2p1);
  const pValue = logPValue >= 0 ? 1 : Math.exp(logPValue);
  if (!Number.isFinite(halfWidth) || Number.isNaN(pValue)) return null;
  return { lift, ci: [lift - halfWidth, lift + halfWidth], pValue };
}

/** The answer's `sequential` block of a treatment: the test's sequence and p-value (null when it is), and τ. */
export function sequentialBlock(
  test: SequentialTTestResult | null,
  tuningParameter: number,
): SequentialBlock {
  return {
    lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
    p_value: test === null ? null : test.pValue,
    tuning_parameter: tuningParameter,
  };
}
