import { describe, expect, it } from 'vitest';
import { relativeTTest } from '../../../../services/stats/src/math/relative-t-test.ts';
import { expectMatchesGbstats, metricFixtures } from '../../../helpers/metric-fixtures.ts';

const cases = [...metricFixtures.mean, ...metricFixtures.ratio];

describe('relativeTTest', () => {
  it('has a meaningful number of gbstats fixtures, defined and degenerate', () => {
    const defined = cases.filter((c) => c.expected.gbstats_error === null);
    expect(cases.length, 'fixture cases').toBeGreaterThanOrEqual(80);
    expect(defined.length, 'cases where gbstats gave a result').toBeGreaterThanOrEqual(60);
    expect(cases.length - defined.length, "cases of gbstats' default output").toBeGreaterThanOrEqual(15);
    expect(
      defined.filter((c) => c.expected.p_value_gbstats === 0 && (c.expected.p_value ?? 0) > 0).length,
      'cases where gbstats rounds a tiny p-value to 0',
    ).toBeGreaterThanOrEqual(3);
  });

  for (const c of cases) {
    it(`agrees with gbstats' TwoSidedTTest on its own arm statistics: ${c.name} (${c.confidence})`, () => {
      const arms = c.expected.gbstats_arms;
      expectMatchesGbstats(relativeTTest(arms.treatment, arms.control, c.confidence), c.expected, c.name);
    });
  }

  it('divides by the signed control mean, as gbstats does', () => {
    const result = relativeTTest({ mean: -1, variance: 4, n: 100 }, { mean: -2, variance: 4, n: 100 }, 0.95);
    expect(result?.lift, '(−1 − (−2)) / −2').toBe(-0.5);
  });

  it('is null when either variance is 0, not only both', () => {
    expect(
      relativeTTest({ mean: 2, variance: 0, n: 50 }, { mean: 1, variance: 1, n: 50 }, 0.95),
      'treatment',
    ).toBeNull();
    expect(
      relativeTTest({ mean: 2, variance: 1, n: 50 }, { mean: 1, variance: 0, n: 50 }, 0.95),
      'control',
    ).toBeNull();
  });

  it('is null for input gbstats would never be given', () => {
    const arm = { mean: 1, variance: 1, n: 50 };
    expect(relativeTTest(arm, arm, 1), 'confidence 1').toBeNull();
    expect(relativeTTest(arm, arm, Number.NaN), 'confidence NaN').toBeNull();
    expect(relativeTTest({ ...arm, n: 10.5 }, arm, 0.95), 'fractional n').toBeNull();
    expect(
      relativeTTest({ ...arm, variance: Number.POSITIVE_INFINITY }, arm, 0.95),
      'infinite variance',
    ).toBeNull();
  });
});
