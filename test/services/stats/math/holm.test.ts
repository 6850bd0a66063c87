import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holmAdjust } from '../../../../services/stats/src/math/holm.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('holmAdjust', () => {
  it('multiplies by m − rank and takes the running maximum', () => {
    // sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max keeps 0.06
    const adjusted = holmAdjust([0.01, 0.04, 0.03]);
    expect(adjusted[0], 'smallest').toBeCloseTo(0.03, 15);
    expect(adjusted[1], 'largest, raised to 0.06').toBeCloseTo(0.06, 15);
    expect(adjusted[2], 'middle').toBeCloseTo(0.06, 15);
  });

  it('caps adjusted p-values at 1', () => {
    expect(holmAdjust([0.6, 0.7]), '1.2 capped').toEqual([1, 1]);
  });

  it('leaves a single p-value unchanged', () => {
    expect(holmAdjust([0.04]), 'one test').toEqual([0.04]);
  });

  it('returns nothing for no tests', () => {
    expect(holmAdjust([]), 'empty').toEqual([]);
  });

  it('gives tied p-values the same adjusted value', () => {
    const adjusted = holmAdjust([0.02, 0.02, 0.5]);
    expect(adjusted[0], 'tie').toBe(adjusted[1]);
  });

  it('is monotone in the raw p-values, never below them and never above 1', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (raw) => {
        const adjusted = holmAdjust(raw);
        raw.forEach((p, i) => {
          const a = adjusted[i] as number;
          expect(a, `adjusted ≥ raw for ${p}`).toBeGreaterThanOrEqual(p);
          expect(a, 'adjusted ≤ 1').toBeLessThanOrEqual(1);
          raw.forEach((q, j) => {
            if (p < q) expect(a, `order kept for ${p} < ${q}`).toBeLessThanOrEqual(adjusted[j] as number);
          });
        });
      }),
    );
  });

  it("agrees with statsmodels multipletests(method='holm')", () => {
    for (const c of fixtures.holm) {
      const adjusted = holmAdjust(c.p_values);
      expect(adjusted.length, 'length').toBe(c.expected.length);
      c.expected.forEach((e, i) =>
        expectAgrees(adjusted[i] ?? null, e, `holm(${c.p_values.join(', ')})[${i}]`, false),
      );
    }
  });
});
