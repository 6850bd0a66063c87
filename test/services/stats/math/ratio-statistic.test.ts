import { describe, expect, it } from 'vitest';
import { ratioRelativeTTest, ratioStatistic } from '../../../../services/stats/src/math/ratio-statistic.ts';
import type { RatioSums } from '../../../../services/stats/src/math/ratio-statistic.ts';
import { expectMatchesGbstats, metricFixtures } from '../../../helpers/metric-fixtures.ts';
import { expectAgrees } from '../../../helpers/stats-fixtures.ts';

const cases = metricFixtures.ratio;

/** Sums of per-unit (N_u, D_u) pairs. */
function sumsOf(units: readonly (readonly [number, number])[]): RatioSums {
  return {
    units: units.length,
    sumNumerator: units.reduce((s, [n]) => s + n, 0),
    sumNumeratorSq: units.reduce((s, [n]) => s + n * n, 0),
    sumDenominator: units.reduce((s, [, d]) => s + d, 0),
    sumDenominatorSq: units.reduce((s, [, d]) => s + d * d, 0),
    sumProduct: units.reduce((s, [n, d]) => s + n * d, 0),
  };
}

describe('ratioStatistic', () => {
  it('has a meaningful number of gbstats ratio fixtures', () => {
    expect(cases.length, 'ratio fixture cases').toBeGreaterThanOrEqual(40);
    expect(
      cases.filter((c) => c.expected.gbstats_error === null).length,
      'ratio cases where gbstats gave a result',
    ).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(`agrees with gbstats' RatioStatistic per arm: ${c.name}`, () => {
      for (const arm of ['treatment', 'control'] as const) {
        const actual = ratioStatistic(c[arm]);
        const expected = c.expected[arm];
        expectAgrees(actual.mean, expected.mean, `${c.name} / ${arm}.mean`);
        expectAgrees(actual.variance, expected.variance, `${c.name} / ${arm}.variance`, false);
      }
    });
  }

  it('gives exactly 0 variance when one unit has events, where gbstats gets rounding noise', () => {
    // 18.11² and 18.11·3 are rounded, so gbstats' three terms cancel to about −1e−13.
    const estimate = ratioStatistic(
      sumsOf([[18.11, 3], ...Array.from({ length: 7 }, () => [0, 0] as const)]),
    );
    expect(estimate.mean, 'R').toBeCloseTo(18.11 / 3, 15);
    expect(estimate.variance, 'variance').toBe(0);
  });

  it('has a null mean and variance when Σ D = 0, and a null variance for one unit', () => {
    expect(
      ratioStatistic(
        sumsOf([
          [1, 0],
          [2, 0],
        ]),
      ),
      'Σ D = 0',
    ).toEqual({ mean: null, variance: null });
    expect(ratioStatistic(sumsOf([[3, 2]])), 'n = 1').toEqual({ mean: 1.5, variance: null });
  });

  it('gives nulls for sums that are not a statistic', () => {
    const valid = sumsOf([
      [1, 1],
      [2, 3],
    ]);
    expect(ratioStatistic({ ...valid, units: -1 }), 'negative units').toEqual({ mean: null, variance: null });
    expect(ratioStatistic({ ...valid, sumProduct: Number.NaN }), 'NaN sum').toEqual({
      mean: null,
      variance: null,
    });
    expect(ratioStatistic({ ...valid, sumDenominatorSq: -1 }), 'negative Σ D²').toEqual({
      mean: null,
      variance: null,
    });
  });
});

describe('ratioRelativeTTest', () => {
  for (const c of cases) {
    it(`agrees with gbstats' TwoSidedTTest on RatioStatistics: ${c.name} (${c.confidence})`, () => {
      expectMatchesGbstats(ratioRelativeTTest(c.treatment, c.control, c.confidence), c.expected, c.name);
    });
  }
});
