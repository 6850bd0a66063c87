import { describe, expect, it } from 'vitest';
import { twoProportionZTest } from '../../../../services/stats/src/math/two-proportion-z-test.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('twoProportionZTest', () => {
  it('reproduces the statsmodels docstring example (5/83 vs 12/99, p ≈ 0.159)', () => {
    const result = twoProportionZTest({ conversions: 5, units: 83 }, { conversions: 12, units: 99 });
    expect(result?.pValue, 'p-value').toBeCloseTo(0.159, 3);
  });

  it('uses the pooled proportion: 100/1000 vs 120/1000 gives z ≈ −1.4293', () => {
    const result = twoProportionZTest({ conversions: 100, units: 1000 }, { conversions: 120, units: 1000 });
    // pooled 0.11, SE = √(0.11 · 0.89 · 2/1000)
    expect(result?.statistic, 'z').toBeCloseTo(-0.02 / Math.sqrt(0.11 * 0.89 * 0.002), 12);
    expect(result?.pValue, 'p').toBeCloseTo(0.152918, 6);
  });

  it('gives p = 1 for equal proportions', () => {
    const result = twoProportionZTest({ conversions: 30, units: 100 }, { conversions: 60, units: 200 });
    expect(result?.pValue, 'p for equal rates').toBe(1);
  });

  it('is null when nobody converted in either arm (pooled proportion 0)', () => {
    expect(
      twoProportionZTest({ conversions: 0, units: 50 }, { conversions: 0, units: 70 }),
      'pooled 0',
    ).toBeNull();
  });

  it('is null when every unit converted in both arms (pooled proportion 1)', () => {
    expect(
      twoProportionZTest({ conversions: 50, units: 50 }, { conversions: 70, units: 70 }),
      'pooled 1',
    ).toBeNull();
  });

  it('is null when an arm has no units', () => {
    expect(
      twoProportionZTest({ conversions: 0, units: 0 }, { conversions: 3, units: 10 }),
      'empty arm',
    ).toBeNull();
  });

  it('is defined for one unit per arm, as in statsmodels', () => {
    const result = twoProportionZTest({ conversions: 1, units: 1 }, { conversions: 0, units: 1 });
    expect(result?.pValue, 'p for 1/1 vs 0/1').toBeCloseTo(0.15729920705028516, 14);
  });

  it('agrees with statsmodels proportions_ztest on every fixture pair', () => {
    for (const c of fixtures.two_proportion_z_test) {
      const label = `${c.first.conversions}/${c.first.units} vs ${c.second.conversions}/${c.second.units}`;
      const result = twoProportionZTest(c.first, c.second);
      expectAgrees(result?.statistic ?? null, c.statistic, `${label} z`);
      expectAgrees(result?.pValue ?? null, c.p_value, `${label} p`, false);
    }
  });
});
