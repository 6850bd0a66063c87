import { describe, expect, it } from 'vitest';
import { testStatistics } from '../../../../services/stats/src/math/arm-statistics.ts';
import { meanArm } from '../../../../services/stats/src/math/mean-statistic.ts';
import { proportionArm } from '../../../../services/stats/src/math/proportion-statistic.ts';
import { ratioArm } from '../../../../services/stats/src/math/ratio-statistic.ts';
import { relativeTTest } from '../../../../services/stats/src/math/relative-t-test.ts';
import {
  DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
  sequentialRho,
  sequentialTTest,
} from '../../../../services/stats/src/math/sequential-t-test.ts';
import type { SequentialTTestResult } from '../../../../services/stats/src/math/sequential-t-test.ts';
import type { MeanSample } from '../../../../services/stats/src/math/welch-t-test.ts';
import { expectMatchesSequential, sequentialFixtures } from '../../../helpers/sequential-fixtures.ts';
import type { SequentialCase } from '../../../helpers/sequential-fixtures.ts';
import { expectAgrees } from '../../../helpers/stats-fixtures.ts';

const cases = sequentialFixtures.cases;
const defined = cases.filter((c) => c.expected.gbstats_error === null);

/** What the service computes for the case's statistic: its arms from the sufficient statistics, then the test. */
function fromSums(c: SequentialCase): SequentialTTestResult | null {
  const test = (t: MeanSample, k: MeanSample) => sequentialTTest(t, k, c.confidence, c.tuning_parameter);
  switch (c.kind) {
    case 'mean':
      return testStatistics(meanArm, c.treatment, c.control, test);
    case 'ratio':
      return testStatistics(ratioArm, c.treatment, c.control, test);
    case 'proportion':
      return testStatistics(proportionArm, c.treatment, c.control, test);
  }
}

describe('sequentialTTest', () => {
  it('has a meaningful number of gbstats fixtures: every kind, size and tuning parameter, defined and degenerate', () => {
    expect(cases.length, 'fixture cases').toBeGreaterThanOrEqual(80);
    expect(defined.length, 'cases where gbstats gave a result').toBeGreaterThanOrEqual(65);
    expect(cases.length - defined.length, "cases of gbstats' default output").toBeGreaterThanOrEqual(12);
    for (const kind of ['mean', 'ratio', 'proportion'] as const) {
      const ofKind = defined.filter((c) => c.kind === kind);
      expect(ofKind.length, `${kind}: defined cases`).toBeGreaterThanOrEqual(20);
      expect(
        cases.filter((c) => c.kind === kind && c.expected.gbstats_error !== null).length,
        `${kind}: degenerate cases`,
      ).toBeGreaterThanOrEqual(3);
      for (const n of [50, 500, 5000, 100_000]) {
        for (const tau of [100, 5000, 1e6]) {
          expect(
            ofKind.some((c) => c.treatment.units === n && c.tuning_parameter === tau),
            `${kind}: n ${n}, tuning parameter ${tau}`,
          ).toBe(true);
        }
      }
    }
    const informative = defined.filter((c) => (c.expected.p_value ?? 1) < 1);
    expect(informative.length, 'cases with p < 1').toBeGreaterThanOrEqual(20);
    expect(
      informative.filter((c) => (c.expected.p_value ?? 1) < 1e-20).length,
      'p < 1e-20',
    ).toBeGreaterThanOrEqual(4);
    expect(
      defined.filter((c) => c.expected.p_value === 1).length,
      'p = 1 (e-value below 1)',
    ).toBeGreaterThanOrEqual(20);
    expect(
      defined.filter((c) => c.expected.gbstats_overflow === true).length,
      "cases where gbstats' exp overflows",
    ).toBeGreaterThanOrEqual(2);
    expect(new Set(cases.map((c) => c.confidence)).size, 'confidences').toBeGreaterThanOrEqual(5);
  });

  it("computes gbstats' rho from the tuning parameter and the confidence", () => {
    for (const c of cases) {
      expectAgrees(sequentialRho(1 - c.confidence, c.tuning_parameter), c.expected.rho, `${c.name}: rho`);
    }
  });

  for (const c of cases) {
    it(`agrees with gbstats' SequentialTwoSidedTTest on its own arm statistics: ${c.kind} / ${c.name} (${c.confidence})`, () => {
      const arms = c.expected.gbstats_arms;
      expectMatchesSequential(
        sequentialTTest(arms.treatment, arms.control, c.confidence, c.tuning_parameter),
        c.expected,
        c.name,
      );
    });
    it(`agrees with gbstats from the sufficient statistics: ${c.kind} / ${c.name} (${c.confidence})`, () => {
      expectMatchesSequential(fromSums(c), c.expected, `${c.kind} / ${c.name}`);
    });
  }

  it('estimates the same lift as the fixed-horizon test, with a wider interval once the arms hold 100 units', () => {
    for (const c of defined) {
      const arms = c.expected.gbstats_arms;
      const sequential = sequentialTTest(arms.treatment, arms.control, c.confidence, c.tuning_parameter);
      const fixed = relativeTTest(arms.treatment, arms.control, c.confidence);
      if (sequential === null || fixed === null) throw new Error(`${c.name}: both tests are defined`);
      expect(sequential.lift, `${c.name}: lift`).toBe(fixed.lift);
      if (arms.treatment.n + arms.control.n >= 100) {
        expect(sequential.ci[1] - sequential.ci[0], `${c.name}: wider`).toBeGreaterThan(
          fixed.ci[1] - fixed.ci[0],
        );
        expect(sequential.pValue, `${c.name}: p-value at least the fixed one`).toBeGreaterThanOrEqual(
          fixed.pValue,
        );
      }
    }
  });

  it('uses 5000 as the tuning parameter when none is given', () => {
    const t = { mean: 1.1, variance: 4, n: 3000 };
    const c = { mean: 1, variance: 4, n: 3000 };
    expect(DEFAULT_SEQUENTIAL_TUNING_PARAMETER).toBe(5000);
    expect(sequentialTTest(t, c, 0.95)).toEqual(sequentialTTest(t, c, 0.95, 5000));
  });

  it('is null for a tuning parameter or input gbstats would never be given', () => {
    const arm = { mean: 1, variance: 1, n: 50 };
    for (const tau of [0, -5000, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(sequentialTTest(arm, arm, 0.95, tau), `tuning parameter ${tau}`).toBeNull();
    }
    expect(sequentialTTest(arm, arm, 1), 'confidence 1').toBeNull();
    expect(sequentialTTest(arm, arm, Number.NaN), 'confidence NaN').toBeNull();
    expect(sequentialTTest({ ...arm, n: 10.5 }, arm, 0.95), 'fractional n').toBeNull();
    expect(sequentialTTest({ ...arm, n: 1 }, arm, 0.95), 'one unit').toBeNull();
    expect(proportionArm({ units: 10, conversions: 11 }), 'more conversions than units').toBeNull();
    expect(proportionArm({ units: 0, conversions: 0 }), 'no units').toBeNull();
  });
});
