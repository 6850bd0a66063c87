import { describe, expect, it } from 'vitest';
import { cupedComparison } from '../../../../services/stats/src/math/cuped-statistic.ts';
import { holmAdjust } from '../../../../services/stats/src/math/holm.ts';
import { meanRelativeTTest } from '../../../../services/stats/src/math/mean-statistic.ts';
import { computeMetricResults } from '../../../../services/stats/src/math/metric-results.ts';
import type {
  MetricResults,
  MetricVariationResult,
} from '../../../../services/stats/src/math/metric-results.ts';
import type { MetricVariationStats } from '../../../../services/stats/src/math/metric-stats.ts';

type Covariate = NonNullable<MetricVariationStats['covariate']>;

function arm(
  variation: string,
  units: number,
  sum: number,
  sumSq: number,
  covariate?: Covariate,
): MetricVariationStats {
  return {
    variation,
    units,
    conversions: Math.min(units, Math.round(units * 0.4)),
    sum,
    sumSq,
    denominatorSum: 0,
    denominatorSumSq: 0,
    crossSum: 0,
    ...(covariate === undefined ? {} : { covariate }),
  };
}

/** Three variations of a count metric with a covariate correlated with v (about 0.7). */
const withCovariate = [
  arm('b', 4000, 9100, 41_000, { sum: 8000, sumSq: 34_000, crossSum: 30_500 }),
  arm('control', 4100, 8200, 35_500, { sum: 8250, sumSq: 35_100, crossSum: 28_900 }),
  arm('a', 3900, 8000, 34_000, { sum: 7700, sumSq: 32_500, crossSum: 27_700 }),
];
const without = withCovariate.map(({ covariate: _covariate, ...rest }) => rest);
const zeroCovariate = without.map((s) => ({ ...s, covariate: { sum: 0, sumSq: 0, crossSum: 0 } }));

function run(
  type: 'conversion' | 'mean' | 'count' | 'ratio',
  variations: MetricVariationStats[],
  tuning?: number,
) {
  return computeMetricResults({
    type,
    stats: { variations, capValue: null, denominatorCapValue: null },
    control: 'control',
    confidence: 0.95,
    ...(tuning === undefined ? {} : { sequentialTuningParameter: tuning }),
  });
}

const byName = (r: MetricResults, name: string) =>
  r.variations.find((v) => v.variation === name) as MetricVariationResult;
const sums = (s: MetricVariationStats) => ({
  units: s.units,
  sum: s.sum,
  sumSq: s.sumSq,
  covariateSum: s.covariate?.sum ?? Number.NaN,
  covariateSumSq: s.covariate?.sumSq ?? Number.NaN,
  crossSum: s.covariate?.crossSum ?? Number.NaN,
});
const control = withCovariate[1] as MetricVariationStats;

describe('computeMetricResults: the cuped block', () => {
  it('is null on every variation when the metric has no covariate', () => {
    for (const type of ['mean', 'count'] as const) {
      const r = run(type, without);
      expect(
        r.variations.map((v) => v.cuped),
        type,
      ).toEqual([null, null, null]);
    }
  });

  it('is null on every variation when any variation lacks its covariate', () => {
    const partly = [withCovariate[0], withCovariate[1], without[2]] as MetricVariationStats[];
    expect(run('mean', partly).variations.map((v) => v.cuped)).toEqual([null, null, null]);
  });

  it('is null for conversion and ratio metrics, covariate or not', () => {
    for (const type of ['conversion', 'ratio'] as const) {
      expect(
        run(type, withCovariate).variations.map((v) => v.cuped),
        type,
      ).toEqual([null, null, null]);
    }
  });

  it("gives each treatment gbstats' CUPED comparison with the control, at the experiment's tuning parameter", () => {
    const r = run('count', withCovariate, 50_000);
    for (const name of ['a', 'b']) {
      const cuped = byName(r, name).cuped;
      const expected = cupedComparison(
        sums(withCovariate.find((s) => s.variation === name) as MetricVariationStats),
        sums(control),
        0.95,
        50_000,
      );
      if (cuped === null || expected === null || expected.test === null || expected.sequential === null) {
        throw new Error(`${name}: a defined comparison`);
      }
      expect(cuped, name).toMatchObject({
        estimate: expected.treatment.mean,
        variance: expected.treatment.variance,
        theta: expected.theta,
        control_estimate: expected.control.mean,
        lift: expected.lift,
        lift_ci: [expected.test.ci[0], expected.test.ci[1]],
        p_value: expected.test.pValue,
        sequential: {
          lift_ci: [expected.sequential.ci[0], expected.sequential.ci[1]],
          p_value: expected.sequential.pValue,
          tuning_parameter: 50_000,
        },
        variance_reduction: expected.varianceReduction,
      });
      expect(
        cuped.variance_reduction,
        `${name}: a covariate correlated at ~0.7 removes ~half`,
      ).toBeGreaterThan(0.3);
    }
  });

  it('adjusts the CUPED p-values by Holm across the treatments, as the unadjusted ones', () => {
    const r = run('count', withCovariate);
    const pa = byName(r, 'a').cuped?.p_value as number;
    const pb = byName(r, 'b').cuped?.p_value as number;
    const [adjustedA, adjustedB] = holmAdjust([pa, pb]);
    expect(byName(r, 'a').cuped?.adjusted_p_value, 'a').toBe(adjustedA);
    expect(byName(r, 'b').cuped?.adjusted_p_value, 'b').toBe(adjustedB);
  });

  it('gives the control its adjusted figures only when one treatment makes theta unique; no comparison fields', () => {
    const several = byName(run('count', withCovariate), 'control').cuped;
    expect(several, 'two treatments: two thetas, so no control estimate').toEqual({
      estimate: null,
      variance: null,
      theta: null,
      control_estimate: null,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      sequential: null,
      variance_reduction: null,
    });
    const pair = [withCovariate[0], control] as MetricVariationStats[];
    const one = run('count', pair);
    const comparison = cupedComparison(sums(pair[0] as MetricVariationStats), sums(control), 0.95, 5000);
    expect(byName(one, 'control').cuped, 'one treatment').toEqual({
      estimate: comparison?.control.mean,
      variance: comparison?.control.variance,
      theta: comparison?.theta,
      control_estimate: null,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      sequential: null,
      variance_reduction: null,
    });
    expect(
      byName(one, 'b').cuped?.control_estimate,
      "the treatment's block has the same control figure",
    ).toBe(comparison?.control.mean);
  });

  it('leaves every other field as it is without a covariate', () => {
    for (const type of ['mean', 'count'] as const) {
      const strip = (r: MetricResults) => ({
        ...r,
        variations: r.variations.map(({ cuped: _cuped, ...rest }) => rest),
      });
      expect(strip(run(type, withCovariate)), type).toEqual(strip(run(type, without)));
    }
  });

  it('with a covariate of all zeros, gives the unadjusted figures (theta 0, nothing removed)', () => {
    const r = run('mean', zeroCovariate, 500);
    for (const v of r.variations) {
      if (v.variation === 'control') continue;
      const cuped = v.cuped;
      if (cuped === null) throw new Error(`${v.variation}: cuped applies`);
      const stats = without.find((s) => s.variation === v.variation) as MetricVariationStats;
      const unadjusted = meanRelativeTTest(stats, control, 0.95);
      expect(cuped.theta, `${v.variation}: theta`).toBe(0);
      expect(cuped.estimate, `${v.variation}: estimate`).toBe(v.estimate);
      expect(cuped.variance, `${v.variation}: variance`).toBe(v.variance);
      expect(cuped.control_estimate, `${v.variation}: control estimate`).toBe(r.variations[0]?.estimate);
      expect(cuped.lift_ci, `${v.variation}: lift_ci`).toEqual(v.lift_ci);
      expect(cuped.sequential, `${v.variation}: sequential`).toEqual(v.sequential);
      expect(cuped.p_value, `${v.variation}: gbstats' relative t-test p-value`).toBe(unadjusted?.pValue);
      expect(cuped.lift, `${v.variation}: gbstats' point estimate`).toBe(unadjusted?.lift);
      expect(cuped.lift as number, `${v.variation}: the lift, to rounding`).toBeCloseTo(v.lift as number, 14);
      expect(cuped.variance_reduction, `${v.variation}: variance reduction`).toBe(0);
    }
  });
});
