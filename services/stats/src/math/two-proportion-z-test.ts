import { twoSidedNormalPValue } from './normal.ts';

/** Conversions out of units for one arm. */
export interface ProportionSample {
  conversions: number;
  units: number;
}

export interface ZTestResult {
  /** (p₁ − p₂) / SE under the pooled null. */
  statistic: number;
  /** Two-sided p-value, 2·Φ(−|z|). */
  pValue: number;
}

/**
 * Two-sided two-proportion z-test with the pooled proportion, computed as statsmodels'
 * `proportions_ztest([c1, c2], [n1, n2])` (default `value=0`, `prop_var=False`): the same
 * operations in the same order, so the statistic agrees to the last bits.
 *
 * Null rules (statsmodels returns nan or divides by zero there):
 * - either arm has no units (its proportion is 0/0);
 * - the pooled proportion is 0 or 1 (no conversions at all, or every unit converted), so the
 *   standard error is 0 and z is 0/0.
 * One unit per arm is allowed: the pooled variance does not need a sample variance.
 */
export function twoProportionZTest(first: ProportionSample, second: ProportionSample): ZTestResult | null {
  if (!(first.units > 0 && second.units > 0)) return null;
  const diff = (first.conversions * 1.0) / first.units - (second.conversions * 1.0) / second.units;
  const pooled = (first.conversions + second.conversions) / (first.units + second.units);
  if (!(pooled > 0 && pooled < 1)) return null;
  const variance = pooled * (1 - pooled) * (1.0 / first.units + 1.0 / second.units);
  const statistic = diff / Math.sqrt(variance);
  return { statistic, pValue: twoSidedNormalPValue(statistic) };
}
