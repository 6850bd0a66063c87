import { describe, expect, it } from 'vitest';
import { baseMetricsOf } from '../../../../services/stats/src/storage/metric-query.ts';
import { catalogueMetric } from '../../../helpers/stats/catalogue-metric.ts';

const metric = catalogueMetric;
const revenue = metric('revenue', { cuped: { days: 14 } });
const orders = metric('orders', { type: 'count' });
const aov = metric('aov', { type: 'ratio', event: undefined, numerator: 'revenue', denominator: 'orders' });
const catalogue = [revenue, orders, aov];

describe('baseMetricsOf', () => {
  it('reads a ratio operand without its cuped when only the ratio asks for it (a ratio takes no CUPED)', () => {
    const { base, ratioPairs } = baseMetricsOf([aov], catalogue);
    expect(base.map((m) => [m.id, m.cuped])).toEqual([
      ['revenue', undefined],
      ['orders', undefined],
    ]);
    expect(ratioPairs).toEqual([[0, 1]]);
  });

  it('keeps cuped on a metric asked for itself, whichever comes first in the request', () => {
    for (const asked of [
      [aov, revenue],
      [revenue, aov],
    ]) {
      const { base } = baseMetricsOf(asked, catalogue);
      expect(base.find((m) => m.id === 'revenue')?.cuped, asked.map((m) => m.id).join()).toEqual({
        days: 14,
      });
    }
  });
});
