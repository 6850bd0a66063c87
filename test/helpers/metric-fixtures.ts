import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { MeanSums } from '../../services/stats/src/math/mean-statistic.ts';
import type { RatioSums } from '../../services/stats/src/math/ratio-statistic.ts';
import type { RelativeTTestResult } from '../../services/stats/src/math/relative-t-test.ts';
import { expectAgrees } from './stats-fixtures.ts';

/**
 * Reference values computed by gbstats 0.8.0 itself, plus numpy quantiles
 * (scripts/fixtures/gen-metric-fixtures.py), committed because CI has no Python stack. Shapes mirror
 * what the generator writes; its docstring says what each field is and when it is null.
 */
export interface MetricFixtures {
  meta: Record<string, unknown>;
  mean: MetricCase<MeanSums>[];
  ratio: MetricCase<RatioSums>[];
  quantiles: QuantileFixture[];
}

/** One arm's statistic under the TypeScript's null rules. */
export interface ArmFigures {
  mean: number | null;
  variance: number | null;
}

/** What gbstats' TwoSidedTTest consumed for one arm, placeholders (0) included. */
export interface GbstatsArm {
  mean: number;
  variance: number;
  n: number;
}

export interface MetricCase<Sums> {
  name: string;
  confidence: number;
  treatment: Sums;
  control: Sums;
  notes?: string;
  expected: {
    treatment: ArmFigures;
    control: ArmFigures;
    gbstats_arms: { treatment: GbstatsArm; control: GbstatsArm };
    lift: number | null;
    ci: [number, number] | null;
    /** 2·t.sf(|t|, dof) with gbstats' t and dof: the tail itself. */
    p_value: number | null;
    /** gbstats' own 2·(1 − t.cdf(|t|, dof)): the same figure less its digits below ~1e−16. */
    p_value_gbstats: number | null;
    df: number | null;
    /** gbstats' error_message when it returned its default output (then every figure is null). */
    gbstats_error: string | null;
  };
}

export interface QuantileFixture {
  name: string;
  values: number[];
  /** numpy.quantile(values, p), default linear method (= ClickHouse quantileExactInclusive). */
  cases: { p: number; expected: number }[];
}

const FIXTURE_PATH = new URL('../fixtures/metric-fixtures.json', import.meta.url);

/** Parsed once per test file; the JSON is trusted to match `MetricFixtures` (the generator writes it). */
export const metricFixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as MetricFixtures;

/**
 * Agreement required between our p-value and gbstats' own `p_value`: gbstats' 1 − cdf subtraction
 * leaves it within a few ulps of 1 of the true tail, absolutely, and no closer.
 */
export const GBSTATS_P_VALUE_ABSOLUTE_TOLERANCE = 1e-15;

/** What every gbstats fixture case states about a test's result. */
export interface GbstatsExpectation {
  lift: number | null;
  ci: [number, number] | null;
  /** gbstats' error_message when it returned its default output (then every figure is null). */
  gbstats_error: string | null;
}

/**
 * Asserts the part of a result every gbstats test has: null exactly where gbstats returned its default
 * output, otherwise lift and interval at 1e−9 relative (1e−12 absolute near 0). True when there is a
 * result whose other figures the caller should check.
 */
export function expectGbstatsLiftAndCi<Result extends { lift: number; ci: readonly [number, number] }>(
  actual: Result | null,
  expected: GbstatsExpectation,
  label: string,
): actual is Result {
  if (expected.gbstats_error !== null) {
    expect(actual, `${label}: gbstats returned ${expected.gbstats_error}, so null`).toBeNull();
    return false;
  }
  if (actual === null || expected.ci === null) {
    throw new Error(`${label}: got ${String(actual)}, gbstats gave a result (ci ${String(expected.ci)})`);
  }
  expectAgrees(actual.lift, expected.lift, `${label}.lift`);
  expectAgrees(actual.ci[0], expected.ci[0], `${label}.ci[0]`);
  expectAgrees(actual.ci[1], expected.ci[1], `${label}.ci[1]`);
  return true;
}

/**
 * Asserts a relative t-test result against a fixture case: null exactly where gbstats returned its
 * default output; otherwise lift, CI and df at 1e−9 relative (1e−12 absolute near 0), the p-value at
 * 1e−9 relative to the tail, and within 1e−15 of gbstats' own p-value.
 */
export function expectMatchesGbstats(
  actual: RelativeTTestResult | null,
  expected: MetricCase<unknown>['expected'],
  label: string,
): void {
  if (!expectGbstatsLiftAndCi(actual, expected, label)) return;
  expectAgrees(actual.df, expected.df, `${label}.df`, false);
  expectAgrees(actual.pValue, expected.p_value, `${label}.pValue`, false);
  const gbstatsP = expected.p_value_gbstats ?? Number.NaN;
  expect(
    Math.abs(actual.pValue - gbstatsP) <= GBSTATS_P_VALUE_ABSOLUTE_TOLERANCE,
    `${label}.pValue: got ${actual.pValue}, gbstats' own ${gbstatsP}`,
  ).toBe(true);
}
