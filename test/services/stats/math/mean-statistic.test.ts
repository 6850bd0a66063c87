import { describe, expect, it } from 'vitest';
import { meanRelativeTTest } from '../../../../services/stats/src/math/mean-statistic.ts';
import { sampleMoments } from '../../../../services/stats/src/math/sample-moments.ts';
import { expectMatchesGbstats, metricFixtures } from '../../../helpers/metric-fixtures.ts';
import { expectAgrees } from '../../../helpers/stats-fixtures.ts';

const cases = metricFixtures.mean;

describe('meanRelativeTTest', () => {
  it('has a meaningful number of gbstats mean fixtures', () => {
    expect(cases.length, 'mean fixture cases').toBeGreaterThanOrEqual(40);
    expect(
      cases.filter((c) => c.expected.gbstats_error === null).length,
      'mean cases where gbstats gave a result',
    ).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(`sampleMoments agrees with gbstats' SampleMeanStatistic per arm: ${c.name}`, () => {
      for (const arm of ['treatment', 'control'] as const) {
        const { units, sum, sumSq } = c[arm];
        const actual = sampleMoments(units, sum, sumSq);
        expectAgrees(actual.mean, c.expected[arm].mean, `${c.name} / ${arm}.mean`);
        expectAgrees(actual.variance, c.expected[arm].variance, `${c.name} / ${arm}.variance`, false);
      }
    });

    it(`agrees with gbstats' TwoSidedTTest on SampleMeanStatistics: ${c.name} (${c.confidence})`, () => {
      expectMatchesGbstats(meanRelativeTTest(c.treatment, c.control, c.confidence), c.expected, c.name);
    });
  }

  it('gives null for sums that are not a statistic', () => {
    const arm = { units: 10, sum: 20, sumSq: 50 };
    expect(meanRelativeTTest({ ...arm, units: 2.5 }, arm, 0.95), 'fractional units').toBeNull();
    expect(meanRelativeTTest(arm, { ...arm, sumSq: -1 }, 0.95), 'negative Σx²').toBeNull();
  });
});
