import type { SrmResult } from './types.ts';
import { chiSquareSurvival } from './chi-square-survival.ts';

export interface SrmTest {
  /** Pearson's Σ (observed − expected)² / expected; null when the test is undefined. */
  statistic: number | null;
  /** P(χ²_{k−1} > statistic), as scipy's `chisquare(observed, expected)[1]`; null when undefined. */
  pValue: number | null;
  /** Expected units per arm: total × weight / Σ weights (same order as `observed`). */
  expected: number[];
}

/**
 * Sample ratio mismatch: chi-square goodness of fit of the observed units per variation against
 * the expected split, as `scipy.stats.chisquare(observed, total * w / sum(w))`.
 *
 * Null rules (scipy gives nan there):
 * - fewer than two variations (zero degrees of freedom);
 * - no units at all (every expected count is 0, so each term is 0/0).
 * Weights must be positive and finite (callers validate; a zero weight would make the statistic
 * infinite for any observed unit).
 * @param observed analysed units per variation
 * @param weights expected split, any positive scale, same order; equal when omitted
 */
export function sampleRatioMismatch(observed: readonly number[], weights?: readonly number[]): SrmTest {
  const k = observed.length;
  const split = weights ?? observed.map(() => 1);
  const total = observed.reduce((sum, units) => sum + units, 0);
  const weightSum = split.reduce((sum, weight) => sum + weight, 0);
  const expected = split.map((weight) => (total * weight) / weightSum);
  if (k < 2 || total <= 0) return { statistic: null, pValue: null, expected };
  let statistic = 0;
  observed.forEach((units, i) => {
    const exp = expected[i] as number;
    const deviation = units - exp;
    statistic += (deviation * deviation) / exp;
  });
  const pValue = chiSquareSurvival(statistic, k - 1);
  return Number.isFinite(statistic) && !Number.isNaN(pValue)
    ? { statistic, pValue, expected }
    : { statistic: null, pValue: null, expected };
}

/**
 * The SRM block of a results answer: units per variation against `expectedWeights` (equal split when
 * omitted); names that are weighted but have no row are counted as 0 observed units, which is the
 * strongest mismatch of all. Its p-value is null with fewer than two variations or no units.
 */
export function srmResult(
  variations: readonly { variation: string; units: number }[],
  expectedWeights?: Readonly<Record<string, number>>,
): SrmResult {
  const names = variations.map((v) => v.variation);
  if (expectedWeights !== undefined) {
    for (const name of Object.keys(expectedWeights)) if (!names.includes(name)) names.push(name);
  }
  const unitsByName = new Map(variations.map((v) => [v.variation, v.units]));
  const observed = names.map((name) => unitsByName.get(name) ?? 0);
  const test = sampleRatioMismatch(
    observed,
    expectedWeights === undefined ? undefined : names.map((name) => expectedWeights[name] as number),
  );
  return {
    p_value: test.pValue,
    observed: Object.fromEntries(names.map((name, i) => [name, observed[i] as number])),
    expected: Object.fromEntries(names.map((name, i) => [name, test.expected[i] as number])),
  };
}
