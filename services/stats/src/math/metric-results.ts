/**
 * Per-variation results of one catalogue metric (docs/semantics.md, "Second edition"), from its sufficient
 * statistics. One shape for every type, so a page or a script reads every metric the same way:
 *
 * | type       | estimate                  | variance (unit level)        | p_value                  | lift_ci                     |
 * | conversion | conversions / n           | rate·(1 − rate)              | pooled two-proportion z  | delta method, normal (as the event results) |
 * | mean/count | mean of v_u (capped)      | sample variance (n − 1)      | Welch's t (absolute)     | gbstats TwoSidedTTest, relative |
 * | ratio      | Σ N_u / Σ D_u             | gbstats RatioStatistic (delta) | gbstats TwoSidedTTest, relative | gbstats TwoSidedTTest, relative |
 *
 * `lift` = estimate_t / estimate_c − 1 (null when the control's is 0 or null). `adjusted_p_value`: Holm over
 * the treatments of this metric only (semantics: never across metrics). Undefined figures are null.
 *
 * Those are fixed-horizon figures. Every treatment also carries `sequential`, the always-valid comparison
 * (docs/semantics.md, "Monitoring"): gbstats' SequentialTwoSidedTTest of the relative lift on the type's
 * gbstats statistic: ProportionStatistic (conversion), SampleMeanStatistic (mean, count), RatioStatistic
 * (ratio); null on the control.
 */
import type { MetricType } from '../../../../shared/projects/metric-catalog.ts';
import { holmAdjust } from './holm.ts';
import { testStatistics } from './arm-statistics.ts';
import { meanArm, meanRelativeTTest } from './mean-statistic.ts';
import type { MeanSums } from './mean-statistic.ts';
import type { MetricStats, MetricVariationStats } from './metric-stats.ts';
import { proportionArm } from './proportion-statistic.ts';
import { ratioArm, ratioRelativeTTest, ratioStatistic } from './ratio-statistic.ts';
import type { RatioSums } from './ratio-statistic.ts';
import { liftConfidenceInterval, relativeLift } from './relative-lift.ts';
import { sampleMoments } from './sample-moments.ts';
import {
  DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
  sequentialBlock,
  sequentialTTest,
} from './sequential-t-test.ts';
import type { SequentialTTestResult } from './sequential-t-test.ts';
import { twoProportionZTest } from './two-proportion-z-test.ts';
import type { SequentialBlock } from './types.ts';
import type { MeanSample } from './welch-t-test.ts';
import { welchTTest } from './welch-t-test.ts';

/** Which test produced `p_value`, named in the answer so a reader knows what was computed. */
export type MetricTest = 'two_proportion_z' | 'welch_t' | 'gbstats_relative_t';

export interface MetricVariationResult {
  variation: string;
  units: number;
  /** Units with a counted event (of the numerator, for a ratio). */
  conversions: number;
  /** Σ v_u (Σ N_u for a ratio) and, for a ratio, Σ D_u. */
  sum: number;
  denominator_sum: number | null;
  estimate: number | null;
  variance: number | null;
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  adjusted_p_value: number | null;
  /** The always-valid comparison; null on the control. */
  sequential: SequentialBlock | null;
}

export interface MetricResults {
  test: MetricTest;
  /** Control first, then the treatments by name. */
  variations: MetricVariationResult[];
}

export function computeMetricResults(input: {
  type: MetricType;
  stats: MetricStats;
  control: string;
  confidence: number;
  /**
   * gbstats' `sequential_tuning_parameter`, a finite number > 0 (validated with the experiment's
   * configuration); 5000 when omitted.
   */
  sequentialTuningParameter?: number;
}): MetricResults {
  const { type, control, confidence } = input;
  const tuning = input.sequentialTuningParameter ?? DEFAULT_SEQUENTIAL_TUNING_PARAMETER;
  const described = input.stats.variations.map((s) => describe(type, s));
  const base = described.find((d) => d.result.variation === control);
  const results = described.map((d) =>
    d === base || base === undefined ? d.result : compare(type, d, base, confidence, tuning),
  );
  const tested = results.filter((r) => r.variation !== control && r.p_value !== null);
  holmAdjust(tested.map((r) => r.p_value as number)).forEach((p, i) => {
    (tested[i] as MetricVariationResult).adjusted_p_value = p;
  });
  return {
    test: type === 'conversion' ? 'two_proportion_z' : type === 'ratio' ? 'gbstats_relative_t' : 'welch_t',
    variations: [
      ...results.filter((r) => r.variation === control),
      ...results.filter((r) => r.variation !== control),
    ],
  };
}

interface Described {
  stats: MetricVariationStats;
  result: MetricVariationResult;
}

/** A variation's ratio sums as RatioStatistic takes them. */
export function ratioSums(s: MetricVariationStats): RatioSums {
  return {
    units: s.units,
    sumNumerator: s.sum,
    sumNumeratorSq: s.sumSq,
    sumDenominator: s.denominatorSum,
    sumDenominatorSq: s.denominatorSumSq,
    sumProduct: s.crossSum,
  };
}

function describe(type: MetricType, stats: MetricVariationStats): Described {
  let estimate: number | null;
  let variance: number | null;
  if (type === 'conversion') {
    estimate = stats.units > 0 ? stats.conversions / stats.units : null;
    variance = estimate === null ? null : estimate * (1 - estimate);
  } else if (type === 'ratio') {
    ({ mean: estimate, variance } = ratioStatistic(ratioSums(stats)));
  } else {
    ({ mean: estimate, variance } = sampleMoments(stats.units, stats.sum, stats.sumSq));
  }
  return {
    stats,
    result: {
      variation: stats.variation,
      units: stats.units,
      conversions: stats.conversions,
      sum: stats.sum,
      denominator_sum: type === 'ratio' ? stats.denominatorSum : null,
      estimate,
      variance,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      sequential: null,
    },
  };
}

function compare(
  type: MetricType,
  t: Described,
  c: Described,
  confidence: number,
  tuning: number,
): MetricVariationResult {
  const lift = relativeLift(t.result.estimate, c.result.estimate);
  const sequential = sequentialBlock(sequentialTest(type, t.stats, c.stats, confidence, tuning), tuning);
  if (type === 'conversion') {
    const ci = liftConfidenceInterval(t.stats, c.stats, confidence);
    return {
      ...t.result,
      lift,
      lift_ci: ci === null ? null : [ci[0], ci[1]],
      p_value: twoProportionZTest(t.stats, c.stats)?.pValue ?? null,
      sequential,
    };
  }
  if (type === 'ratio') {
    const test = ratioRelativeTTest(ratioSums(t.stats), ratioSums(c.stats), confidence);
    return {
      ...t.result,
      lift,
      lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
      p_value: test?.pValue ?? null,
      sequential,
    };
  }
  const test = meanRelativeTTest(meanSums(t.stats), meanSums(c.stats), confidence);
  return {
    ...t.result,
    lift,
    lift_ci: test === null ? null : [test.ci[0], test.ci[1]],
    p_value: welchPValue(t, c),
    sequential,
  };
}

/** gbstats' sequential test on the type's gbstats statistic. */
function sequentialTest(
  type: MetricType,
  t: MetricVariationStats,
  c: MetricVariationStats,
  confidence: number,
  tuning: number,
): SequentialTTestResult | null {
  const test = (a: MeanSample, b: MeanSample) => sequentialTTest(a, b, confidence, tuning);
  if (type === 'conversion') return testStatistics(proportionArm, t, c, test);
  if (type === 'ratio') return testStatistics(ratioArm, ratioSums(t), ratioSums(c), test);
  return testStatistics(meanArm, meanSums(t), meanSums(c), test);
}

function meanSums(s: MetricVariationStats): MeanSums {
  return { units: s.units, sum: s.sum, sumSq: s.sumSq };
}

function welchPValue(t: Described, c: Described): number | null {
  const { estimate: mt, variance: vt } = t.result;
  const { estimate: mc, variance: vc } = c.result;
  if (mt === null || vt === null || mc === null || vc === null) return null;
  return (
    welchTTest({ mean: mt, variance: vt, n: t.stats.units }, { mean: mc, variance: vc, n: c.stats.units })
      ?.pValue ?? null
  );
}
