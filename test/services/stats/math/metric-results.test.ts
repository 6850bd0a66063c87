import { describe, expect, it } from 'vitest';
import { computeMetricResults, ratioSums } from '../../../../services/stats/src/math/metric-results.ts';
import type { MetricVariationStats } from '../../../../services/stats/src/math/metric-stats.ts';
import { testStatistics } from '../../../../services/stats/src/math/arm-statistics.ts';
import { meanArm, meanRelativeTTest } from '../../../../services/stats/src/math/mean-statistic.ts';
import { proportionArm } from '../../../../services/stats/src/math/proportion-statistic.ts';
import {
  ratioArm,
  ratioRelativeTTest,
  ratioStatistic,
} from '../../../../services/stats/src/math/ratio-statistic.ts';
import { sequentialTTest } from '../../../../services/stats/src/math/sequential-t-test.ts';
import type { MeanSample } from '../../../../services/stats/src/math/welch-t-test.ts';
import { holmAdjust } from '../../../../services/stats/src/math/holm.ts';
import { welchTTest } from '../../../../services/stats/src/math/welch-t-test.ts';
import { twoProportionZTest } from '../../../../services/stats/src/math/two-proportion-z-test.ts';
import { sampleMoments } from '../../../../services/stats/src/math/sample-moments.ts';

function arm(
  variation: string,
  units: number,
  conversions: number,
  sum: number,
  sumSq: number,
  d = [0, 0, 0],
): MetricVariationStats {
  return {
    variation,
    units,
    conversions,
    sum,
    sumSq,
    denominatorSum: d[0] as number,
    denominatorSumSq: d[1] as number,
    crossSum: d[2] as number,
  };
}

const arms = [
  arm('b', 400, 90, 5100, 310_000, [700, 2100, 14_000]),
  arm('control', 410, 70, 4300, 250_000, [690, 2000, 11_500]),
  arm('a', 390, 85, 4700, 280_000, [720, 2200, 12_900]),
];
const stats = { variations: arms, capValue: null, denominatorCapValue: null };
const byName = (name: string) => arms.find((a) => a.variation === name) as MetricVariationStats;
/** gbstats' sequential test of two arms at a confidence and tuning parameter. */
const sequentialAt = (confidence: number, tuning: number) => (t: MeanSample, c: MeanSample) =>
  sequentialTTest(t, c, confidence, tuning);

describe('computeMetricResults: each type uses its verified test', () => {
  it('conversion: rate, pooled z-test; control first; Holm across this metric only', () => {
    const r = computeMetricResults({ type: 'conversion', stats, control: 'control', confidence: 0.95 });
    expect(r.test).toBe('two_proportion_z');
    expect(r.variations.map((v) => v.variation)).toEqual(['control', 'b', 'a']);
    const a = r.variations.find((v) => v.variation === 'a');
    expect(a?.estimate).toBe(85 / 390);
    expect(a?.p_value).toBe(twoProportionZTest(byName('a'), byName('control'))?.pValue);
    const pa = a?.p_value as number;
    const pb = r.variations.find((v) => v.variation === 'b')?.p_value as number;
    expect(a?.adjusted_p_value).toBe(holmAdjust([pb, pa])[1]);
    expect(r.variations[0]?.lift).toBeNull();
    expect(r.variations[0]?.sequential, 'control').toBeNull();
    const test = testStatistics(proportionArm, byName('a'), byName('control'), sequentialAt(0.95, 5000));
    expect(a?.sequential, "gbstats' ProportionStatistic, τ 5000 by default").toEqual({
      lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
      p_value: test?.pValue ?? null,
      tuning_parameter: 5000,
    });
    expect(test, 'defined').not.toBeNull();
  });

  it('mean: Welch p-value, gbstats relative CI', () => {
    const r = computeMetricResults({ type: 'mean', stats, control: 'control', confidence: 0.9 });
    const b = r.variations.find((v) => v.variation === 'b');
    const mb = sampleMoments(400, 5100, 310_000);
    const mc = sampleMoments(410, 4300, 250_000);
    expect(b?.estimate).toBe(mb.mean);
    expect(b?.p_value).toBe(
      welchTTest(
        { mean: mb.mean as number, variance: mb.variance as number, n: 400 },
        { mean: mc.mean as number, variance: mc.variance as number, n: 410 },
      )?.pValue,
    );
    expect(b?.lift_ci).toEqual(
      meanRelativeTTest(
        { units: 400, sum: 5100, sumSq: 310_000 },
        { units: 410, sum: 4300, sumSq: 250_000 },
        0.9,
      )?.ci,
    );
    const sequential = testStatistics(
      meanArm,
      { units: 400, sum: 5100, sumSq: 310_000 },
      { units: 410, sum: 4300, sumSq: 250_000 },
      sequentialAt(0.9, 5000),
    );
    expect(sequential, 'defined').not.toBeNull();
    expect(b?.sequential, "gbstats' SampleMeanStatistic at the request's confidence").toEqual({
      lift_ci: [sequential?.ci[0], sequential?.ci[1]],
      p_value: sequential?.pValue,
      tuning_parameter: 5000,
    });
  });

  it('ratio: gbstats RatioStatistic and relative t-test', () => {
    const r = computeMetricResults({ type: 'ratio', stats, control: 'control', confidence: 0.95 });
    const sums = ratioSums;
    const test = ratioRelativeTTest(sums(byName('a')), sums(byName('control')), 0.95);
    const a = r.variations.find((v) => v.variation === 'a');
    expect(a?.estimate).toBe(ratioStatistic(sums(byName('a'))).mean);
    expect(a?.p_value).toBe(test?.pValue);
    expect(a?.lift_ci).toEqual(test?.ci);
    expect(a?.denominator_sum).toBe(720);
  });

  it("ratio: gbstats' sequential test on the RatioStatistics, at the experiment's tuning parameter", () => {
    const r = computeMetricResults({
      type: 'ratio',
      stats,
      control: 'control',
      confidence: 0.95,
      sequentialTuningParameter: 20_000,
    });
    const test = testStatistics(
      ratioArm,
      ratioSums(byName('b')),
      ratioSums(byName('control')),
      sequentialAt(0.95, 20_000),
    );
    expect(test, 'defined').not.toBeNull();
    expect(r.variations.find((v) => v.variation === 'b')?.sequential).toEqual({
      lift_ci: [test?.ci[0], test?.ci[1]],
      p_value: test?.pValue,
      tuning_parameter: 20_000,
    });
  });

  it('undefined figures are null, never NaN', () => {
    const empty = {
      variations: [arm('control', 0, 0, 0, 0), arm('t', 1, 0, 0, 0)],
      capValue: null,
      denominatorCapValue: null,
    };
    for (const type of ['conversion', 'mean', 'count', 'ratio'] as const) {
      const r = computeMetricResults({ type, stats: empty, control: 'control', confidence: 0.95 });
      for (const v of r.variations)
        for (const value of Object.values(v)) expect(Number.isNaN(value)).toBe(false);
      expect(r.variations[1]?.lift).toBeNull();
      expect(r.variations[1]?.p_value).toBeNull();
      expect(r.variations[1]?.sequential, `${type}: block with null figures`).toEqual({
        lift_ci: null,
        p_value: null,
        tuning_parameter: 5000,
      });
    }
  });
});
