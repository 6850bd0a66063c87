import { describe, expect, it } from 'vitest';
import { sampleRatioMismatch } from '../../../../services/stats/src/math/srm.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('sampleRatioMismatch', () => {
  it('gives p = 1 for a perfect equal split', () => {
    const test = sampleRatioMismatch([5000, 5000]);
    expect(test.statistic, 'χ²').toBe(0);
    expect(test.pValue, 'p').toBe(1);
  });

  it('gives χ² = 100 and p = 2Φ(−10) for 100 vs 0 units', () => {
    const test = sampleRatioMismatch([100, 0]);
    expect(test.statistic, 'χ²').toBe(100);
    expectAgrees(test.pValue, 1.5239706048320995e-23, 'p', false);
  });

  it('splits the total by the given weights', () => {
    expect(sampleRatioMismatch([9000, 1000], [9, 1]).expected, 'expected units').toEqual([9000, 1000]);
    expect(sampleRatioMismatch([9000, 1000], [9, 1]).pValue, 'matching split').toBe(1);
  });

  it('is null with a single variation (no degrees of freedom)', () => {
    expect(sampleRatioMismatch([42]).pValue, 'k = 1').toBeNull();
  });

  it('is null when there are no units at all', () => {
    expect(sampleRatioMismatch([0, 0]).pValue, 'no units').toBeNull();
  });

  it('agrees with scipy chisquare on every fixture', () => {
    for (const c of fixtures.srm) {
      const test = sampleRatioMismatch(c.observed, c.weights ?? undefined);
      const label = `srm(${c.observed.join(', ')} | ${String(c.weights)})`;
      expectAgrees(test.pValue, c.p_value, `${label} p`, false);
      c.expected.forEach((e, i) => expectAgrees(test.expected[i] ?? null, e, `${label} expected[${i}]`));
    }
  });
});
