import { describe, expect, it } from 'vitest';
import {
  withZeroMetricVariation,
  withZeroUnits,
  withZeroVariation,
} from '../../../../services/stats/src/math/absent-variation.ts';
import type { MetricStats, MetricVariationStats } from '../../../../services/stats/src/math/metric-stats.ts';
import type { VariationStats } from '../../../../services/stats/src/math/types.ts';

const stats = (variation: string, units: number): VariationStats => ({
  variation,
  units,
  conversions: 1,
  sumValue: 2,
  sumValueSq: 4,
  sumCount: 1,
  sumCountSq: 1,
  sumWeight: 1,
  sumWeightedValue: 2,
});

const metricRow = (variation: string, covariate: boolean): MetricVariationStats => ({
  variation,
  units: 10,
  conversions: 3,
  sum: 5,
  sumSq: 9,
  denominatorSum: 0,
  denominatorSumSq: 0,
  crossSum: 0,
  ...(covariate ? { covariate: { sum: 1, sumSq: 1, crossSum: 2 } } : {}),
});

describe('an absent configured variation', () => {
  it('is added at its sorted place with zero statistics', () => {
    const out = withZeroVariation([stats('a', 5), stats('treatment', 7)], 'control');
    expect(out.map((v) => [v.variation, v.units, v.conversions, v.sumValue, v.sumWeight])).toEqual([
      ['a', 5, 1, 2, 1],
      ['control', 0, 0, 0, 0],
      ['treatment', 7, 1, 2, 1],
    ]);
    expect(withZeroVariation([stats('b', 1)], 'z').map((v) => v.variation)).toEqual(['b', 'z']);
    expect(withZeroVariation([], 'control').map((v) => v.variation)).toEqual(['control']);
  });

  it('leaves a list that already has it unchanged', () => {
    const list = [stats('control', 3), stats('treatment', 4)];
    expect(withZeroVariation(list, 'control')).toEqual(list);
    expect(withZeroUnits([{ variation: 'control', units: 3 }], 'control')).toEqual([
      { variation: 'control', units: 3 },
    ]);
  });

  it('gets a zero covariate in a CUPED metric, none otherwise, and keeps the caps', () => {
    const cuped: MetricStats = {
      variations: [metricRow('treatment', true)],
      capValue: 12,
      denominatorCapValue: null,
    };
    const out = withZeroMetricVariation(cuped, 'control');
    expect(out.capValue).toBe(12);
    expect(out.variations[0]).toEqual({
      variation: 'control',
      units: 0,
      conversions: 0,
      sum: 0,
      sumSq: 0,
      denominatorSum: 0,
      denominatorSumSq: 0,
      crossSum: 0,
      covariate: { sum: 0, sumSq: 0, crossSum: 0 },
    });
    const plain: MetricStats = {
      variations: [metricRow('treatment', false)],
      capValue: null,
      denominatorCapValue: null,
    };
    expect(withZeroMetricVariation(plain, 'control').variations[0]).not.toHaveProperty('covariate');
  });
});
