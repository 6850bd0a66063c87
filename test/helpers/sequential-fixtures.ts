import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { MeanSums } from '../../services/stats/src/math/mean-statistic.ts';
import type { RatioSums } from '../../services/stats/src/math/ratio-statistic.ts';
import type { SequentialTTestResult } from '../../services/stats/src/math/sequential-t-test.ts';
import type { ProportionSample } from '../../services/stats/src/math/two-proportion-z-test.ts';
import { expectGbstatsLiftAndCi } from './metric-fixtures.ts';
import type { GbstatsArm } from './metric-fixtures.ts';
import { expectAgrees } from './stats-fixtures.ts';

/**
 * Reference values of gbstats 0.8.0's SequentialTwoSidedTTest, computed by gbstats itself
 * (scripts/fixtures/gen-sequential-fixtures.py) and committed because CI has no Python stack. Shapes
 * mirror what the generator writes; its docstring says what each field is and when it is null.
 */
export interface SequentialFixtures {
  meta: Record<string, unknown>;
  cases: SequentialCase[];
}

/** The statistic gbstats was given: SampleMeanStatistic, RatioStatistic or ProportionStatistic. */
export type SequentialKind = 'mean' | 'ratio' | 'proportion';

export type SequentialCase =
  | (CaseBase & { kind: 'mean'; treatment: MeanSums; control: MeanSums })
  | (CaseBase & { kind: 'ratio'; treatment: RatioSums; control: RatioSums })
  | (CaseBase & { kind: 'proportion'; treatment: ProportionSample; control: ProportionSample });

interface CaseBase {
  name: string;
  confidence: number;
  tuning_parameter: number;
  expected: {
    gbstats_arms: { treatment: GbstatsArm; control: GbstatsArm };
    /** gbstats' test.rho (computed for every case, default output included). */
    rho: number;
    lift: number | null;
    ci: [number, number] | null;
    /** gbstats' p-value formula in 50-digit arithmetic from its own float inputs. */
    p_value: number | null;
    /** gbstats' own result.p_value: 0 where its exp(x) overflowed. */
    p_value_gbstats: number | null;
    /** Whether gbstats' exp(x) overflowed (so it reported 0). */
    gbstats_overflow: boolean | null;
    /** gbstats' error_message when it returned its default output (then every figure is null). */
    gbstats_error: string | null;
  };
}

const FIXTURE_PATH = new URL('../fixtures/sequential-fixtures.json', import.meta.url);

/** Parsed once per test file; the JSON is trusted to match `SequentialFixtures` (the generator writes it). */
export const sequentialFixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as SequentialFixtures;

/**
 * Asserts a sequential test result against a fixture case: null exactly where gbstats returned its default
 * output; otherwise lift and the sequence at 1e−9 relative (1e−12 absolute near 0), the p-value at 1e−9
 * relative to the high-precision evaluation and to gbstats' own p-value wherever gbstats' exp did not
 * overflow (where it did, gbstats reports 0 and the true p-value is below 1e−300 in every case here).
 */
export function expectMatchesSequential(
  actual: SequentialTTestResult | null,
  expected: SequentialCase['expected'],
  label: string,
): void {
  if (!expectGbstatsLiftAndCi(actual, expected, label)) return;
  expectAgrees(actual.pValue, expected.p_value, `${label}.pValue`, false);
  if (expected.gbstats_overflow === true) {
    expect(expected.p_value_gbstats, `${label}: gbstats' overflow reads 0`).toBe(0);
    expect(actual.pValue, `${label}.pValue below 1e-300`).toBeLessThan(1e-300);
  } else {
    expectAgrees(actual.pValue, expected.p_value_gbstats, `${label}.pValue vs gbstats' own`, false);
  }
}
