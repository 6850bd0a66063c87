import chiSquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../../../services/stats/src/math/chi-square-survival.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('chiSquareSurvival', () => {
  it('is e^{−x/2} for two degrees of freedom', () => {
    expect(chiSquareSurvival(3, 2), 'sf(3; 2)').toBeCloseTo(Math.exp(-1.5), 15);
  });

  it('is 0.05 at the 95% point of one degree of freedom (3.841458820694124)', () => {
    expect(chiSquareSurvival(3.841458820694124, 1), 'sf(3.84; 1)').toBeCloseTo(0.05, 14);
  });

  it('is 1 at x = 0', () => {
    expect(chiSquareSurvival(0, 3), 'sf(0)').toBe(1);
  });

  it('is NaN for non-integer or non-positive degrees of freedom', () => {
    expect(chiSquareSurvival(1, 0), 'df 0').toBeNaN();
    expect(chiSquareSurvival(1, 1.5), 'df 1.5').toBeNaN();
  });

  it('agrees with 1 − stdlib CDF where that subtraction is still accurate', () => {
    for (const df of [1, 2, 3, 4, 7, 30]) {
      for (const x of [0.1, 1, 2.5, 5, 9]) {
        const viaCdf = 1 - chiSquareCdf(x, df);
        if (viaCdf < 1e-3) continue;
        expect(Math.abs(chiSquareSurvival(x, df) - viaCdf), `sf(${x}; ${df})`).toBeLessThan(1e-13);
      }
    }
  });

  it('keeps the far tail that 1 − CDF rounds to 0', () => {
    expect(1 - chiSquareCdf(150, 3), '1 − CDF(150; 3)').toBe(0);
    expect(chiSquareSurvival(150, 3), 'sf(150; 3)').toBeGreaterThan(1e-33);
  });

  it('agrees with scipy chi2.sf across df 1…51 and x up to 1300', () => {
    for (const c of fixtures.chi_square_sf) {
      expectAgrees(chiSquareSurvival(c.x, c.df), c.expected, `sf(${c.x}; ${c.df})`, false);
    }
  });
});
