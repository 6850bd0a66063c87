import { describe, expect, it } from 'vitest';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import {
  metricSumsSql,
  quantileShapeFor,
  quantileSql,
} from '../../../../services/stats/src/storage/metric-query-sql.ts';
import type { BaseMetric } from '../../../../services/stats/src/storage/metric-query-sql.ts';
import { catalogueMetric } from '../../../helpers/stats/catalogue-metric.ts';

const metric = (id: string, extra: Partial<MetricConfig>): BaseMetric =>
  catalogueMetric(id, extra) as BaseMetric;

const bought = metric('bought', { type: 'conversion', window: { delay_hours: 0, hours: 72 } });
const revenueP99 = metric('revenue_p99', { cap: { percentile: 0.99 } });
const views = metric('views', { type: 'count', event: 'view' });
const scope = { project: 'shop', experiment: 'checkout' };

describe('the percentile caps pass', () => {
  it("reads the per_unit projection when only another metric's window would make the sums join", () => {
    expect(quantileShapeFor([bought, revenueP99, views], [1], scope, false)).toBe('projected');
  });

  it('joins for a window on the capped metric itself, for as_of, and when the request was rerun joined', () => {
    const windowed = metric('revenue_p99_72h', {
      cap: { percentile: 0.99 },
      window: { delay_hours: 0, hours: 72 },
    });
    expect(quantileShapeFor([bought, windowed], [1], scope, false)).toBe('joined');
    expect(quantileShapeFor([bought, revenueP99], [1], { ...scope, asOf: Date.UTC(2026, 0, 9) }, false)).toBe(
      'joined',
    );
    expect(quantileShapeFor([revenueP99], [0], scope, true)).toBe('joined');
  });

  it('is over all dimension values: a breakdown does not make it join', () => {
    const broken = { ...scope, dimension: { name: 'country', topValues: ['NL', 'DE'] } };
    expect(quantileShapeFor([revenueP99], [0], broken, false)).toBe('projected');
  });

  it("computes the capped metrics' columns alone, named by their index in the request", () => {
    const built = quantileSql([bought, views, revenueP99], [2], scope, 'projected');
    // No window bounds (bought's), no view event: the only metric read is revenue_p99, as e0/r0.
    expect(Object.keys(built.params).sort()).toEqual(['ev0', 'events', 'experiment', 'p2', 'project']);
    expect(built.params['events']).toEqual(['purchase']);
    expect(built.params['p2']).toBe(0.99);
    expect(built.sql).toMatch(/ AS q2, toFloat64\(countIf\(.*\)\) AS n2 FROM/);
    expect(built.sql).not.toMatch(/\b[er][12]\b/);
  });

  it('groups the exposures once for a joined request with CUPED metrics (attributed and covariate rows share the join)', () => {
    const cuped = metric('revenue_cuped', { cuped: { days: 14 } });
    const built = metricSumsSql(
      [bought, cuped],
      [null, null],
      [],
      { ...scope, asOf: Date.UTC(2026, 0, 9) },
      'joined',
    );
    expect(built.sql.match(/FROM exposures/g)?.length).toBe(1);
    expect(built.sql).toContain('t.cov = 1 AND t.cfx = a.fx');
    // as_of bounds the attributed rows only: covariate rows precede a first exposure that as_of bounds.
    expect(built.sql.match(/timestamp <= \{as_of/g)?.length).toBe(1);
  });

  it('refuses an index whose metric has no percentile cap', () => {
    expect(() => quantileSql([bought, revenueP99], [0], scope, 'projected')).toThrow(
      /metric 0 has no percentile cap/,
    );
  });
});
