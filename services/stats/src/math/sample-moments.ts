import { exactSum, twoProduct } from './exact-arithmetic.ts';

/** Mean and sample variance of a per-unit quantity, recovered from its sufficient statistics. */
export interface SampleMoments {
  /** Σx / n; null when n = 0. */
  mean: number | null;
  /** Sample variance with the n − 1 denominator; null when n < 2. Never negative. */
  variance: number | null;
}

/**
 * Mean and n − 1 variance from n, Σx and Σx².
 *
 * The variance is (n·Σx² − (Σx)²) / (n·(n − 1)). The numerator is formed from the exact products
 * and rounded once, so the result is within a few ulps of the exact variance *of the given sums*
 * even when the mean dwarfs the spread (values near 1e4 that differ by 1e−3), where the textbook
 * Σx²/n − mean² loses every digit. No formula can recover what rounding already lost inside Σx²
 * upstream; when that makes the sums inconsistent (n·Σx² < (Σx)²) the variance is clamped to 0.
 *
 * Null rules: mean is null for n = 0; variance is null for n < 2 (one unit has no spread).
 * @param n number of units (a non-negative integer)
 * @param sum Σx over the units
 * @param sumSq Σx² over the units
 */
export function sampleMoments(n: number, sum: number, sumSq: number): SampleMoments {
  if (n <= 0) return { mean: null, variance: null };
  const mean = sum / n;
  if (n < 2) return { mean, variance: null };
  const scaledSumSq = twoProduct(n, sumSq);
  const sumSquared = twoProduct(sum, sum);
  const numerator = exactSum([scaledSumSq.hi, scaledSumSq.lo, -sumSquared.hi, -sumSquared.lo]);
  // Divide in two steps: n·(n − 1) itself is not exact above ~9.5e7 units.
  const variance = numerator / n / (n - 1);
  return { mean, variance: variance > 0 ? variance : 0 };
}
