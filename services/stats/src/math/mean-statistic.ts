import { testStatistics } from './arm-statistics.ts';
import { relativeTTest } from './relative-t-test.ts';
import type { RelativeTTestResult } from './relative-t-test.ts';
import { sampleMoments } from './sample-moments.ts';
import type { MeanSample } from './welch-t-test.ts';

/** Sufficient statistics of a `mean` (x_u) or `count` (k_u) metric in one variation. */
export interface MeanSums {
  /** n: analysed units (a non-negative integer). */
  units: number;
  /** Σ x_u over the n units. */
  sum: number;
  /** Σ x_u² over the n units. */
  sumSq: number;
}

/**
 * gbstats' relative-difference `TwoSidedTTest` of a mean / count metric on two
 * `SampleMeanStatistic`s, treatment against control: the relative lift, its CI and p-value, beside
 * (not instead of) the Welch p-value of the absolute difference that `computeResults` reports.
 *
 * gbstats' `SampleMeanStatistic` is mean = Σx/n and variance = (Σx² − (Σx)²/n)/(n − 1), which is
 * `sampleMoments`; that evaluates the numerator n·Σx² − (Σx)² exactly and rounds once, so it agrees
 * with gbstats wherever gbstats' own cancellation costs less than ~1e−10 relative (roughly while
 * mean/sd < 1e3) and is the more accurate of the two beyond that. gbstats reports 0 where
 * `sampleMoments` reports null (mean for n = 0, variance for n < 2); both lead to no test.
 *
 * Null rules, as gbstats' default output: either arm has fewer than 2 units, the control mean is 0,
 * either variance is 0, confidence is not in (0, 1); see `relativeTTest`. Sums that are not a
 * statistic (units not a non-negative integer, a sum not finite, Σx² < 0) also give null.
 * @param confidence two-sided confidence of `ci`, in (0, 1)
 */
export function meanRelativeTTest(
  treatment: MeanSums,
  control: MeanSums,
  confidence: number,
): RelativeTTestResult | null {
  return testStatistics(meanArm, treatment, control, (t, c) => relativeTTest(t, c, confidence));
}

/**
 * gbstats' `(mean, variance, n)` of a `SampleMeanStatistic` from the sums, an arm of its tests (see
 * `meanRelativeTTest` on the accuracy of the variance); null where a figure is undefined (n < 2) or the
 * sums are not a statistic.
 */
export function meanArm(sums: MeanSums): MeanSample | null {
  if (!isValid(sums)) return null;
  const { mean, variance } = sampleMoments(sums.units, sums.sum, sums.sumSq);
  return mean === null || variance === null ? null : { mean, variance, n: sums.units };
}

function isValid(sums: MeanSums): boolean {
  return (
    Number.isInteger(sums.units) &&
    sums.units >= 0 &&
    Number.isFinite(sums.sum) &&
    Number.isFinite(sums.sumSq) &&
    sums.sumSq >= 0
  );
}
