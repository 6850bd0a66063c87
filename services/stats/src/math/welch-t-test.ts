import studentTCdf from '@stdlib/stats-base-dists-t-cdf';

/** One arm summarised by its mean, sample variance (n − 1 denominator) and size. */
export interface MeanSample {
  mean: number;
  variance: number;
  n: number;
}

export interface WelchResult {
  /** (mean₁ − mean₂) / √(v₁/n₁ + v₂/n₂). */
  statistic: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value, 2·F_t(−|t|; df). */
  pValue: number;
}

/**
 * Welch's unequal-variance t-test from summary statistics, as scipy's
 * `ttest_ind_from_stats(m1, sqrt(v1), n1, m2, sqrt(v2), n2, equal_var=False)`: same
 * Welch–Satterthwaite df and statistic. The p-value uses the lower tail of the symmetric t
 * distribution (stdlib evaluates it through the incomplete beta function), so p-values far below
 * 1e−16 keep their relative precision instead of collapsing to 0 through 1 − F(|t|).
 *
 * Null rules:
 * - either arm has n < 2 (its variance is undefined; scipy divides by n − 1 = 0);
 * - a variance is negative or not finite (not a variance);
 * - both variances are 0: the standard error is 0, so t is ±∞ or 0/0; scipy then reports 0 or nan,
 *   neither of which is evidence about the data, so both are null here.
 * One zero variance is fine: df is then n − 1 of the other arm.
 */
export function welchTTest(first: MeanSample, second: MeanSample): WelchResult | null {
  if (!(first.n >= 2 && second.n >= 2)) return null;
  if (!isVariance(first.variance) || !isVariance(second.variance)) return null;
  if (first.variance === 0 && second.variance === 0) return null;
  const vn1 = first.variance / first.n;
  const vn2 = second.variance / second.n;
  const sum = vn1 + vn2;
  const df = (sum * sum) / ((vn1 * vn1) / (first.n - 1) + (vn2 * vn2) / (second.n - 1));
  const statistic = (first.mean - second.mean) / Math.sqrt(sum);
  // Guards squares that underflow for absurdly small variances (df would be +∞ or NaN).
  if (!Number.isFinite(statistic) || !Number.isFinite(df) || !(df > 0)) return null;
  return { statistic, df, pValue: 2 * studentTCdf(-Math.abs(statistic), df) };
}

function isVariance(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}
