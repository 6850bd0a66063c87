import type { MeanSample } from './welch-t-test.ts';

/**
 * Runs a test of two gbstats arms on each arm's statistic, computed from its sufficient statistics by
 * `statistic`; null when either statistic is undefined (where gbstats has placeholders that make its tests
 * return their default output) or the test is.
 */
export function testStatistics<Sums, Result>(
  statistic: (sums: Sums) => MeanSample | null,
  treatment: Sums,
  control: Sums,
  test: (treatment: MeanSample, control: MeanSample) => Result | null,
): Result | null {
  const t = statistic(treatment);
  const c = statistic(control);
  return t === null || c === null ? null : test(t, c);
}
