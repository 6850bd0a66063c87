import { describe, expect, it } from 'vitest';
import { assembleVariationStats } from '../../../../services/stats/src/storage/results-aggregates.ts';
import type { VariationMetricRow } from '../../../../services/stats/src/storage/results-aggregates.ts';

function metric(
  variation: string,
  conversions: number,
  sumValue = 0,
  sumCount = conversions,
): VariationMetricRow {
  return {
    variation,
    conversions,
    sumValue,
    sumValueSq: sumValue * sumValue,
    sumCount,
    sumCountSq: sumCount,
  };
}

describe('assembleVariationStats', () => {
  it('takes n from the units rows and the sums from the metric rows, sorted by variation', () => {
    const outcome = assembleVariationStats(
      [
        { variation: 'treatment', multipleExposure: false, units: 40 },
        { variation: 'control', multipleExposure: false, units: 50 },
      ],
      [metric('control', 5, 12.5, 6)],
    );
    expect(outcome).toEqual({
      ok: true,
      multipleExposureUnits: 0,
      variations: [
        {
          variation: 'control',
          units: 50,
          conversions: 5,
          sumValue: 12.5,
          sumValueSq: 156.25,
          sumCount: 6,
          sumCountSq: 6,
          sumWeight: 6,
          sumWeightedValue: 12.5,
        },
        {
          variation: 'treatment',
          units: 40,
          conversions: 0,
          sumValue: 0,
          sumValueSq: 0,
          sumCount: 0,
          sumCountSq: 0,
          sumWeight: 0,
          sumWeightedValue: 0,
        },
      ],
    });
  });

  it('counts multiple-exposure units apart and still lists a variation that only they have', () => {
    const outcome = assembleVariationStats(
      [
        { variation: 'a', multipleExposure: false, units: 3 },
        { variation: 'a', multipleExposure: true, units: 1 },
        { variation: 'b', multipleExposure: true, units: 2 },
      ],
      [],
    );
    expect(outcome.ok).toBe(true);
    if (outcome.ok) {
      expect(outcome.multipleExposureUnits, 'over all variations').toBe(3);
      expect(outcome.variations.map((v) => [v.variation, v.units])).toEqual([
        ['a', 3],
        ['b', 0],
      ]);
    }
  });

  it('lists a variation whose units were all retracted with 0 units', () => {
    const outcome = assembleVariationStats([{ variation: 'gone', multipleExposure: false, units: 0 }], []);
    expect(outcome.ok && outcome.variations).toEqual([
      expect.objectContaining({ variation: 'gone', units: 0 }),
    ]);
  });

  it('clamps float dust of fully retracted counts to zero', () => {
    const outcome = assembleVariationStats(
      [{ variation: 'a', multipleExposure: false, units: 2 }],
      [metric('a', 1, 0, -1e-17)],
    );
    expect(outcome.ok && outcome.variations[0]?.sumCount, 'never negative').toBe(0);
  });

  it('refuses events of a variation nobody is exposed to', () => {
    expect(
      assembleVariationStats([{ variation: 'a', multipleExposure: false, units: 1 }], [metric('b', 1)]),
    ).toEqual({
      ok: false,
      reason: 'variation "b" has attributed events but no exposure',
    });
  });

  it('refuses more converting units than units', () => {
    expect(
      assembleVariationStats([{ variation: 'a', multipleExposure: false, units: 1 }], [metric('a', 2)]),
    ).toEqual({
      ok: false,
      reason: 'variation "a" has 2 converting units but 1 units',
    });
  });
});
