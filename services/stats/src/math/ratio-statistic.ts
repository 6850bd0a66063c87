import { testStatistics } from './arm-statistics.ts';
import { exactSum, twoProduct } from './exact-arithmetic.ts';
import type { Expansion2 } from './exact-arithmetic.ts';
import { relativeTTest } from './relative-t-test.ts';
import type { RelativeTTestResult } from './relative-t-test.ts';
import type { MeanSample } from './welch-t-test.ts';

/**
 * Sufficient statistics of a ratio metric in one variation: per unit u, N_u and D_u are the sums of
 * the numerator's and the denominator's values over the unit's attributed events (0 for a unit
 * without events, which still counts in `units`).
 */
export interface RatioSums {
  /** n: analysed units (a non-negative integer). */
  units: number;
  /** Σ N_u. */
  sumNumerator: number;
  /** Σ N_u². */
  sumNumeratorSq: number;
  /** Σ D_u. */
  sumDenominator: number;
  /** Σ D_u². */
  sumDenominatorSq: number;
  /** Σ N_u·D_u. */
  sumProduct: number;
}

/** A variation's ratio and the unit-level variance the t-test divides by n. */
export interface RatioEstimate {
  /** R = Σ N_u / Σ D_u (= mean(N_u) / mean(D_u)); null when Σ D_u = 0 (so also when n = 0). */
  mean: number | null;
  /** Delta-method variance of R per unit (see `ratioStatistic`); null when n < 2 or Σ D_u = 0. */
  variance: number | null;
}

/**
 * gbstats 0.8.0's `RatioStatistic` of one variation, from its sufficient statistics:
 * mean R = ΣN / ΣD, and
 *   variance = v_N/μ_D² − 2·cov·μ_N/μ_D³ + μ_N²·v_D/μ_D⁴
 * with μ = Σ/n, v the n − 1 sample variances and cov = (ΣND − ΣN·ΣD/n)/(n − 1).
 *
 * gbstats evaluates those three terms in floating point; they cancel as N_u gets close to
 * proportional to D_u (exactly 0 when every unit has the same N_u/D_u, e.g. a single unit with
 * events), and then gbstats' answer is rounding noise of either sign. Substituting R = ΣN/ΣD makes
 * the identity exact:
 *   variance = n² · (ΣN²·(ΣD)² − 2·ΣN·ΣD·ΣND + ΣD²·(ΣN)²) / ((n − 1)·(ΣD)⁴),
 * whose numerator (Σ_u (N_u·ΣD − D_u·ΣN)² for consistent sums, so ≥ 0) is formed here from exact
 * products and rounded once. The result is within a few ulps of the exact variance of the given
 * sums; it agrees with gbstats wherever gbstats' own rounding is below 1e−10 relative (the fixtures
 * check both), and is clamped at 0 where inconsistent upstream rounding makes it negative.
 *
 * Null rules (gbstats' placeholders in brackets, both of which make its t-test return the default
 * output): mean is null when ΣD = 0 [0]; variance is null when n < 2 or ΣD = 0 [0]. Input that is
 * not a statistic (units not a non-negative integer, a sum not finite, a sum of squares negative)
 * gives both null.
 */
export function ratioStatistic(sums: RatioSums): RatioEstimate {
  if (!isValid(sums)) return { mean: null, variance: null };
  const { units: n, sumNumerator: sn, sumDenominator: sd } = sums;
  if (sd === 0) return { mean: null, variance: null };
  const mean = sn / sd;
  if (!Number.isFinite(mean)) return { mean: null, variance: null };
  if (n < 2) return { mean, variance: null };

  const sd2 = twoProduct(sd, sd);
  const sn2 = twoProduct(sn, sn);
  const snsd = twoProduct(sn, sd);
  const numerator = exactSum([
    ...scaledExpansion(sd2, sums.sumNumeratorSq, 1),
    ...scaledExpansion(snsd, sums.sumProduct, -2),
    ...scaledExpansion(sn2, sums.sumDenominatorSq, 1),
  ]);
  // n² / ((n − 1)·ΣD⁴) applied in steps that stay in range for any realistic magnitude.
  const perUnit = n / sd;
  const variance = (numerator / sd / sd / (n - 1)) * perUnit * perUnit;
  if (!Number.isFinite(variance)) return { mean, variance: null };
  return { mean, variance: variance > 0 ? variance : 0 };
}

/**
 * gbstats' relative-difference `TwoSidedTTest` of a ratio metric, treatment against control, on
 * their `ratioStatistic`s (see `relativeTTest` for the formulas). Null whenever either arm's mean or
 * variance is null, or `relativeTTest` is null: control ratio 0, either variance 0, fewer than 2
 * units in either arm, confidence outside (0, 1). Those are the cases gbstats answers with its
 * default output (expected 0, ci [0, 0], p 1).
 * @param confidence two-sided confidence of `ci`, in (0, 1)
 */
export function ratioRelativeTTest(
  treatment: RatioSums,
  control: RatioSums,
  confidence: number,
): RelativeTTestResult | null {
  return testStatistics(ratioArm, treatment, control, (t, c) => relativeTTest(t, c, confidence));
}

/** The `ratioStatistic` as an arm of gbstats' tests, `(mean, variance, n)`; null when its ratio or variance is. */
export function ratioArm(sums: RatioSums): MeanSample | null {
  const { mean, variance } = ratioStatistic(sums);
  return mean === null || variance === null ? null : { mean, variance, n: sums.units };
}

/** The four exact terms of factor · (pair.hi + pair.lo) · x; factor must be a power of two (±1, ±2). */
function scaledExpansion(pair: Expansion2, x: number, factor: number): number[] {
  const hi = twoProduct(pair.hi, x);
  const lo = twoProduct(pair.lo, x);
  return [factor * hi.hi, factor * hi.lo, factor * lo.hi, factor * lo.lo];
}

function isValid(sums: RatioSums): boolean {
  if (!(Number.isInteger(sums.units) && sums.units >= 0)) return false;
  const values = [
    sums.sumNumerator,
    sums.sumNumeratorSq,
    sums.sumDenominator,
    sums.sumDenominatorSq,
    sums.sumProduct,
  ];
  if (!values.every(Number.isFinite)) return false;
  return sums.sumNumeratorSq >= 0 && sums.sumDenominatorSq >= 0;
}
