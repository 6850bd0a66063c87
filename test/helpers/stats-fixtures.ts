import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { VariationResult, VariationStats } from '../../services/stats/src/math/types.ts';

/**
 * Reference values computed by scipy/statsmodels (scripts/fixtures/gen-stats-fixtures.py), committed
 * because CI has no Python stack. Shapes mirror what the generator writes.
 */
export interface StatsFixtures {
  meta: Record<string, unknown>;
  normal_quantile: { p: number; expected: number }[];
  normal_two_sided_p: { z: number; expected: number }[];
  critical_value: { confidence: number; expected: number }[];
  two_proportion_z_test: {
    first: { conversions: number; units: number };
    second: { conversions: number; units: number };
    statistic: number | null;
    p_value: number | null;
  }[];
  welch_t_test: {
    first: { mean: number; variance: number; n: number };
    second: { mean: number; variance: number; n: number };
    statistic: number | null;
    df: number | null;
    p_value: number | null;
  }[];
  chi_square_sf: { x: number; df: number; expected: number }[];
  holm: { p_values: number[]; expected: number[] }[];
  srm: { observed: number[]; weights: number[] | null; p_value: number | null; expected: number[] }[];
  sample_moments: { n: number; sum: number; sum_sq: number; mean: number | null; variance: number | null }[];
  experiments: {
    name: string;
    control: string;
    confidence: number;
    expected_weights: Record<string, number> | null;
    variations: VariationStats[];
    notes?: string;
    expected: {
      variations: (Omit<VariationResult, 'lift_ci' | 'sequential'> & { lift_ci: [number, number] | null })[];
      srm: { p_value: number | null; observed: Record<string, number>; expected: Record<string, number> };
    };
  }[];
}

const FIXTURE_PATH = new URL('../fixtures/stats-fixtures.json', import.meta.url);

/** Parsed once per test file; the JSON is trusted to match `StatsFixtures` (the generator writes it). */
export const fixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as StatsFixtures;

/** Relative agreement required on every reference value. */
export const RELATIVE_TOLERANCE = 1e-9;
/** Absolute agreement accepted instead when the reference is this close to 0 (lifts around 0). */
export const ABSOLUTE_TOLERANCE = 1e-12;

/**
 * Whether `actual` agrees with `expected`: both null, or |a − e| ≤ 1e−9·|e|, or, for a figure whose
 * value can sit at 0 through cancellation (lift, CI bounds), |a − e| ≤ 1e−12.
 * P-values are held to the relative rule alone (`absolute: false`), so a tail p-value of 1e−250
 * must be right to 9 digits, not merely "close to 0". The one exception is the subnormal range
 * (< 1e−300), where the reference itself has lost digits.
 */
export function agrees(actual: number | null, expected: number | null, absolute = true): boolean {
  if (expected === null || actual === null) return actual === expected;
  if (!Number.isFinite(actual)) return false;
  const diff = Math.abs(actual - expected);
  if (diff <= RELATIVE_TOLERANCE * Math.abs(expected)) return true;
  if (absolute && diff <= ABSOLUTE_TOLERANCE) return true;
  return Math.abs(expected) < 1e-300 && Math.abs(actual) < 1e-300;
}

/** Asserts agreement with a message naming the case, the field and both values. */
export function expectAgrees(
  actual: number | null,
  expected: number | null,
  label: string,
  absolute = true,
): void {
  expect(
    agrees(actual, expected, absolute),
    `${label}: got ${String(actual)}, reference ${String(expected)}`,
  ).toBe(true);
}
