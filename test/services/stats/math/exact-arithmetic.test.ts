import { describe, expect, it } from 'vitest';
import { exactSum, twoProduct, twoSum } from '../../../../services/stats/src/math/exact-arithmetic.ts';

describe('twoSum', () => {
  it('returns the rounding error of a + b', () => {
    const { hi, lo } = twoSum(1, 1e-20);
    expect(hi, 'rounded sum').toBe(1);
    expect(lo, 'lost part').toBe(1e-20);
  });
});

describe('twoProduct', () => {
  it('returns the rounding error of a · b', () => {
    // (2^27 + 1)² = 2^54 + 2^28 + 1: the trailing 1 does not fit in a double.
    const a = 2 ** 27 + 1;
    const { hi, lo } = twoProduct(a, a);
    expect(hi, 'rounded product').toBe(2 ** 54 + 2 ** 28);
    expect(lo, 'lost part').toBe(1);
  });
});

describe('exactSum', () => {
  it('recovers a term that naive summation cancels away', () => {
    expect(1e100 + 1 - 1e100, 'naive').toBe(0);
    expect(exactSum([1e100, 1, -1e100]), 'exact').toBe(1);
  });

  it('rounds the exact sum of ten 0.1s to 1', () => {
    expect(exactSum(new Array<number>(10).fill(0.1)), 'Σ 0.1 × 10').toBe(1);
  });

  it('is 0 for no terms', () => {
    expect(exactSum([]), 'empty sum').toBe(0);
  });
});
