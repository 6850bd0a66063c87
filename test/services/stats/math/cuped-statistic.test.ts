import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cupedArm,
  cupedComparison,
  cupedTheta,
} from '../../../../services/stats/src/math/cuped-statistic.ts';
import type { CupedSums } from '../../../../services/stats/src/math/cuped-statistic.ts';
import { meanArm, meanRelativeTTest } from '../../../../services/stats/src/math/mean-statistic.ts';
import { relativeTTest } from '../../../../services/stats/src/math/relative-t-test.ts';
import type { TestArm } from '../../../../services/stats/src/math/relative-t-test.ts';
import { sequentialTTest } from '../../../../services/stats/src/math/sequential-t-test.ts';
import { expectMatchesGbstats } from '../../../helpers/metric-fixtures.ts';
import type { ArmFigures, GbstatsArm, MetricCase } from '../../../helpers/metric-fixtures.ts';
import { expectMatchesSequential } from '../../../helpers/sequential-fixtures.ts';
import type { SequentialCase } from '../../../helpers/sequential-fixtures.ts';
import { expectAgrees } from '../../../helpers/stats-fixtures.ts';

/**
 * Reference values of gbstats 0.8.0's RegressionAdjustedStatistic with its relative TwoSidedTTest and
 * SequentialTwoSidedTTest, computed by gbstats itself (scripts/fixtures/gen-cuped-fixtures.py, whose
 * docstring says what each field is and when it is null). The `fixed` and `sequential` blocks are shaped as
 * the metric and sequential fixtures' `expected`, so their assertions are reused.
 */
interface CupedFixtures {
  meta: Record<string, unknown>;
  cases: CupedCase[];
}

/** gbstats' arm as its test consumed it, with its `unadjusted_mean` (the post mean). */
interface CupedGbstatsArm extends GbstatsArm {
  unadjusted_mean: number;
}

type FixedBlock = MetricCase<unknown>['expected'] & {
  treatment: ArmFigures;
  control: ArmFigures;
  gbstats_arms: { treatment: CupedGbstatsArm; control: CupedGbstatsArm };
};
type SequentialExpected = SequentialCase['expected'] & {
  gbstats_arms: { treatment: CupedGbstatsArm; control: CupedGbstatsArm };
};

interface CupedCase {
  kind: 'mean' | 'count';
  name: string;
  confidence: number;
  tuning_parameter: number;
  /** Realised correlation of (v, y) over both arms: describes the scenario. */
  correlation: number | null;
  treatment: CupedSums;
  control: CupedSums;
  expected: {
    theta: number;
    point_estimate: number | null;
    variance_reduction: number | null;
    fixed: FixedBlock;
    sequential: SequentialExpected;
    unadjusted: { fixed: FixedBlock; sequential: SequentialExpected };
  };
}

const FIXTURE_PATH = new URL('../../../fixtures/cuped-fixtures.json', import.meta.url);
const fixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as CupedFixtures;
const cases = fixtures.cases;
const defined = cases.filter((c) => c.expected.fixed.gbstats_error === null);

/** gbstats' arm as `relativeTTest` / `sequentialTTest` take it. */
function testArm(arm: CupedGbstatsArm): TestArm {
  return { mean: arm.mean, variance: arm.variance, n: arm.n, unadjustedMean: arm.unadjusted_mean };
}

function postSums(s: CupedSums) {
  return { units: s.units, sum: s.sum, sumSq: s.sumSq };
}

const label = (c: CupedCase) => `${c.kind} / ${c.name}`;

describe('cupedComparison: gbstats fixtures', () => {
  it('covers each kind, size, correlation and tuning parameter, and the degenerate cases', () => {
    expect(fixtures.meta.gbstats, 'reference version').toBe('0.8.0');
    expect(cases.length, 'fixture cases').toBeGreaterThanOrEqual(60);
    expect(defined.length, 'cases where gbstats gave a result').toBeGreaterThanOrEqual(50);
    expect(cases.length - defined.length, "cases of gbstats' default output").toBeGreaterThanOrEqual(6);
    for (const kind of ['mean', 'count'] as const) {
      for (const n of [50, 1000, 20_000]) {
        for (const tau of [500, 5000, 50_000]) {
          expect(
            defined.some((c) => c.kind === kind && c.treatment.units === n && c.tuning_parameter === tau),
            `${kind}: n ${n}, tuning parameter ${tau}`,
          ).toBe(true);
        }
      }
    }
    const correlations = defined.map((c) => c.correlation ?? 0);
    expect(
      correlations.filter((r) => r > 0.6).length,
      'strongly correlated covariates',
    ).toBeGreaterThanOrEqual(10);
    expect(
      correlations.filter((r) => r > 0.1 && r < 0.3).length,
      'weakly correlated covariates',
    ).toBeGreaterThanOrEqual(8);
    expect(correlations.filter((r) => Math.abs(r) < 0.05).length, 'uncorrelated').toBeGreaterThanOrEqual(8);
    expect(
      cases.filter(
        (c) =>
          c.treatment.units !== c.control.units &&
          c.control.units !== c.treatment.units + Math.floor(c.treatment.units / 10),
      ).length,
      'arms of unrelated sizes',
    ).toBeGreaterThanOrEqual(10);
    expect(
      cases.filter((c) => c.expected.theta === 0).length,
      'theta 0 (gbstats falls back)',
    ).toBeGreaterThanOrEqual(5);
    expect(
      defined.filter((c) => (c.expected.variance_reduction ?? 0) > 0.4).length,
      'variance reduced by more than 40%',
    ).toBeGreaterThanOrEqual(10);
    expect(
      defined.filter((c) => (c.expected.fixed.p_value ?? 1) < 1e-16).length,
      'p-values below 1e-16',
    ).toBeGreaterThanOrEqual(3);
  });

  for (const c of cases) {
    it(`agrees with gbstats from the sufficient statistics: ${label(c)} (${c.confidence}, tau ${c.tuning_parameter})`, () => {
      const name = label(c);
      const theta = cupedTheta(c.treatment, c.control);
      expectAgrees(theta, c.expected.theta, `${name}: theta`);
      if (c.expected.theta === 0) expect(theta, `${name}: gbstats falls back, theta exactly 0`).toBe(0);

      const result = cupedComparison(c.treatment, c.control, c.confidence, c.tuning_parameter);
      if (result === null) throw new Error(`${name}: the sums are a statistic, so there is a comparison`);
      for (const arm of ['treatment', 'control'] as const) {
        expectAgrees(result[arm].mean, c.expected.fixed[arm].mean, `${name}: ${arm} adjusted mean`);
        expectAgrees(
          result[arm].variance,
          c.expected.fixed[arm].variance,
          `${name}: ${arm} adjusted variance`,
        );
      }
      expectAgrees(result.lift, c.expected.point_estimate, `${name}: point estimate`);
      expectMatchesGbstats(result.test, c.expected.fixed, `${name} (fixed horizon)`);
      expectMatchesSequential(result.sequential, c.expected.sequential, `${name} (sequential)`);
      expectAgrees(result.varianceReduction, c.expected.variance_reduction, `${name}: variance reduction`);
    });

    it(`agrees with gbstats' tests on its own adjusted arms: ${label(c)}`, () => {
      const fixed = c.expected.fixed.gbstats_arms;
      const sequential = c.expected.sequential.gbstats_arms;
      expectMatchesGbstats(
        relativeTTest(testArm(fixed.treatment), testArm(fixed.control), c.confidence),
        c.expected.fixed,
        `${label(c)} (fixed, gbstats' arms)`,
      );
      expectMatchesSequential(
        sequentialTTest(
          testArm(sequential.treatment),
          testArm(sequential.control),
          c.confidence,
          c.tuning_parameter,
        ),
        c.expected.sequential,
        `${label(c)} (sequential, gbstats' arms)`,
      );
    });
  }

  it("reproduces gbstats' unadjusted figures with the existing mean statistic (the comparison's baseline)", () => {
    for (const c of cases) {
      const t = meanArm(postSums(c.treatment));
      const k = meanArm(postSums(c.control));
      expectMatchesGbstats(
        meanRelativeTTest(postSums(c.treatment), postSums(c.control), c.confidence),
        c.expected.unadjusted.fixed,
        `${label(c)} (unadjusted)`,
      );
      expectMatchesSequential(
        t === null || k === null ? null : sequentialTTest(t, k, c.confidence, c.tuning_parameter),
        c.expected.unadjusted.sequential,
        `${label(c)} (unadjusted, sequential)`,
      );
    }
  });

  it('gives exactly the unadjusted figures where theta is 0 (covariate all 0 or constant, covariance 0)', () => {
    const reverted = cases.filter((c) => c.expected.theta === 0 && c.treatment.units + c.control.units > 2);
    expect(reverted.length, 'cases').toBeGreaterThanOrEqual(4);
    for (const c of reverted) {
      const result = cupedComparison(c.treatment, c.control, c.confidence, c.tuning_parameter);
      const t = meanArm(postSums(c.treatment));
      const k = meanArm(postSums(c.control));
      expect(result?.test, `${label(c)}: fixed horizon`).toEqual(
        meanRelativeTTest(postSums(c.treatment), postSums(c.control), c.confidence),
      );
      expect(result?.sequential, `${label(c)}: sequential`).toEqual(
        t === null || k === null ? null : sequentialTTest(t, k, c.confidence, c.tuning_parameter),
      );
      if (result?.test != null) expect(result.varianceReduction, `${label(c)}: nothing removed`).toBe(0);
    }
  });
});

describe('cupedComparison: rules', () => {
  const sums = (units: number, sum: number, sumSq: number, y: [number, number, number]): CupedSums => ({
    units,
    sum,
    sumSq,
    covariateSum: y[0],
    covariateSumSq: y[1],
    crossSum: y[2],
  });

  it("pools theta over both arms as one sample, as gbstats' compute_theta", () => {
    // y = 0, 1, 2, 3 in each arm; v = y + 1 in the treatment, v = y in the control. Pooled over the 8 units,
    // cov(v, y) = var(y) = 80/56 (the arms' shift in v does not covary with y, whose arm means are equal): θ = 1.
    const treatment = sums(4, 10, 30, [6, 14, 20]);
    const control = sums(4, 6, 14, [6, 14, 14]);
    expect(cupedTheta(treatment, control)).toBe(1);
    const result = cupedComparison(treatment, control, 0.95, 5000);
    expect(result?.treatment.mean, 'mean(v) − θ·mean(y)').toBe(2.5 - 1.5);
    expect(result?.control.mean, 'exactly 0: v = y').toBe(0);
    expect(result?.test, "control's adjusted mean 0: gbstats' default output").toBeNull();
    expect(result?.lift, 'divided by the unadjusted control mean 1.5').toBe(1 / 1.5);
  });

  it('is symmetric in which arm is the control for theta', () => {
    const a = sums(500, 1200.5, 4100.25, [900, 2500, 2950.5]);
    const b = sums(480, 1100, 3900, [880, 2400, 2700]);
    expect(cupedTheta(a, b)).toBe(cupedTheta(b, a));
  });

  it('falls back to the unadjusted statistic (theta 0) when either pooled variance is 0', () => {
    const post = sums(100, 250, 900, [0, 0, 0]);
    expect(cupedTheta(post, sums(120, 300, 1000, [0, 0, 0])), 'covariate all 0').toBe(0);
    expect(cupedTheta(sums(2, 4, 8, [2, 2, 4]), sums(2, 4, 8, [4, 8, 8])), 'post values all 2').toBe(0);
    expect(cupedTheta(sums(1, 4, 16, [2, 4, 8]), sums(0, 0, 0, [0, 0, 0])), 'one unit in all').toBe(0);
    expect(cupedArm(post, 0), 'the post SampleMeanStatistic').toEqual({
      ...meanArm({ units: 100, sum: 250, sumSq: 900 }),
      unadjustedMean: 2.5,
    });
  });

  it('is null for sums that are not a statistic', () => {
    const ok = sums(10, 20, 60, [10, 20, 25]);
    expect(cupedComparison(sums(10.5, 20, 60, [10, 20, 25]), ok, 0.95, 5000), 'fractional n').toBeNull();
    expect(cupedComparison(ok, sums(10, 20, 60, [10, -1, 25]), 0.95, 5000), 'Σy² < 0').toBeNull();
    expect(cupedComparison(ok, sums(10, 20, 60, [Number.NaN, 20, 25]), 0.95, 5000), 'Σy NaN').toBeNull();
    expect(cupedComparison(ok, ok, 1, 5000)?.test, 'confidence 1: no test').toBeNull();
    expect(cupedComparison(ok, ok, 0.95, 0)?.sequential, 'tuning parameter 0: no sequential test').toBeNull();
  });
});
