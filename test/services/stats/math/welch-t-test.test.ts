import { describe, expect, it } from 'vitest';
import { welchTTest } from '../../../../services/stats/src/math/welch-t-test.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('welchTTest', () => {
  it('matches the closed form for df = 2: t = −1 gives p = 1 − 1/√3', () => {
    const result = welchTTest({ mean: 0, variance: 1, n: 2 }, { mean: 1, variance: 1, n: 2 });
    expect(result?.statistic, 't').toBeCloseTo(-1, 15);
    expect(result?.df, 'Welch df').toBeCloseTo(2, 15);
    // F_t(t; 2) = 1/2 + t / (2√(2 + t²))
    expect(result?.pValue, 'p').toBeCloseTo(1 - 1 / Math.sqrt(3), 14);
  });

  it('uses n − 1 of the other arm as df when one variance is 0', () => {
    const result = welchTTest({ mean: 1, variance: 0, n: 10 }, { mean: 2, variance: 3, n: 12 });
    expect(result?.df, 'df').toBeCloseTo(11, 12);
  });

  it('is null when both variances are 0', () => {
    expect(
      welchTTest({ mean: 1, variance: 0, n: 10 }, { mean: 2, variance: 0, n: 10 }),
      'zero SE',
    ).toBeNull();
  });

  it('is null when an arm has fewer than 2 units', () => {
    expect(welchTTest({ mean: 1, variance: 1, n: 1 }, { mean: 2, variance: 1, n: 5 }), 'n = 1').toBeNull();
  });

  it('is null for a negative or NaN variance', () => {
    expect(
      welchTTest({ mean: 1, variance: -1, n: 5 }, { mean: 2, variance: 1, n: 5 }),
      'negative',
    ).toBeNull();
    expect(
      welchTTest({ mean: 1, variance: Number.NaN, n: 5 }, { mean: 2, variance: 1, n: 5 }),
      'NaN',
    ).toBeNull();
  });

  it('keeps relative precision deep in the tail (p ≈ 2e−120)', () => {
    const result = welchTTest({ mean: 0, variance: 1, n: 1e8 }, { mean: 0.0033, variance: 1, n: 1e8 });
    expectAgrees(result?.pValue ?? null, 1.9798668692162e-120, 'tail p', false);
  });

  it('agrees with scipy ttest_ind_from_stats(equal_var=False) on every fixture', () => {
    for (const c of fixtures.welch_t_test) {
      const label = `welch(${JSON.stringify(c.first)}, ${JSON.stringify(c.second)})`;
      const result = welchTTest(c.first, c.second);
      expectAgrees(result?.statistic ?? null, c.statistic, `${label} t`);
      expectAgrees(result?.df ?? null, c.df, `${label} df`, false);
      expectAgrees(result?.pValue ?? null, c.p_value, `${label} p`, false);
    }
  });
});
