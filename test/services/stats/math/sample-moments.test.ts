import { describe, expect, it } from 'vitest';
import { sampleMoments } from '../../../../services/stats/src/math/sample-moments.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('sampleMoments', () => {
  it('gives mean 2.5 and variance 5/3 for 1, 2, 3, 4', () => {
    const { mean, variance } = sampleMoments(4, 10, 30);
    expect(mean, 'mean').toBe(2.5);
    expect(variance, 'n − 1 variance').toBeCloseTo(5 / 3, 15);
  });

  it('has no mean and no variance for n = 0', () => {
    expect(sampleMoments(0, 0, 0), 'n = 0').toEqual({ mean: null, variance: null });
  });

  it('has a mean but no variance for n = 1', () => {
    expect(sampleMoments(1, 3, 9), 'n = 1').toEqual({ mean: 3, variance: null });
  });

  it('stays exact when the mean dwarfs the spread (5e7 + 1, 2, 3)', () => {
    const n = 3;
    const sum = 150_000_006;
    const sumSq = 7_500_000_600_000_014; // exactly representable
    const mean = sum / n;
    const naive = ((sumSq / n - mean * mean) * n) / (n - 1);
    expect(naive, 'textbook E[x²] − E[x]² is off').not.toBeCloseTo(1, 1);
    expect(sampleMoments(n, sum, sumSq).variance, 'variance of 5e7+1, 5e7+2, 5e7+3').toBe(1);
  });

  it('clamps a variance that rounding upstream made negative to 0', () => {
    // Ten units of 1 whose Σx² came back one ulp short of 10.
    expect(sampleMoments(10, 10, 9.999999999999998).variance, 'clamped variance').toBe(0);
  });

  it('agrees with the exact rational variance of the given sums', () => {
    for (const c of fixtures.sample_moments) {
      const { mean, variance } = sampleMoments(c.n, c.sum, c.sum_sq);
      expectAgrees(mean, c.mean, `mean(n=${c.n})`);
      expectAgrees(variance, c.variance, `variance(n=${c.n}, Σ=${c.sum}, Σ²=${c.sum_sq})`, false);
    }
  });
});
