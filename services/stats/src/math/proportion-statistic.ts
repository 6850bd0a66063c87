import type { ProportionSample } from './two-proportion-z-test.ts';
import type { MeanSample } from './welch-t-test.ts';

/**
 * gbstats 0.8.0's `ProportionStatistic`, its statistic of a "binomial" metric (a conversion), as an arm of
 * its tests: mean = conversions / n and variance = mean·(1 − mean), the population variance of the 0/1
 * values (not n − 1, unlike a `SampleMeanStatistic` of the same data). A rate of 0 or 1 has variance 0,
 * which gbstats' tests answer with their default output, as they do a control rate of 0.
 *
 * Null for n = 0, where gbstats' placeholder mean 0 makes its tests return their default output, and for
 * counts that are not a proportion (n not an integer, conversions not an integer in [0, n]).
 */
export function proportionArm(sample: ProportionSample): MeanSample | null {
  const { units: n, conversions } = sample;
  if (!Number.isInteger(n) || n <= 0) return null;
  if (!Number.isInteger(conversions) || conversions < 0 || conversions > n) return null;
  const mean = conversions / n;
  return { mean, variance: mean * (1 - mean), n };
}
