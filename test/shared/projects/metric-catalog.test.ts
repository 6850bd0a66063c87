import { describe, expect, it } from 'vitest';
import { cupedLookbackByEvent } from '../../../shared/projects/metric-catalog.ts';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';

/** A one-project catalog with the given analysis settings. */
function catalogWith(analysis: Record<string, unknown>) {
  return { projects: [{ id: 'shop', keys: [{ role: 'read', sha256: sha256Hex('r') }], ...analysis }] };
}

function problem(analysis: Record<string, unknown>): string {
  try {
    parseProjectCatalog(catalogWith(analysis), 'projects.json');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the catalog was accepted');
}

const revenue = { id: 'revenue', type: 'mean', event: 'purchase' };
const orders = { id: 'orders', type: 'count', event: 'purchase' };

describe('metric catalogue', () => {
  it('parses metrics, defaults and experiment sets', () => {
    const catalog = parseProjectCatalog(
      catalogWith({
        dimensions: ['country'],
        metrics: [
          { id: 'purchased', type: 'conversion', event: 'purchase', window: { hours: 72 } },
          { ...revenue, cap: { percentile: 0.99 } },
          orders,
          { id: 'order_value', type: 'ratio', numerator: 'revenue', denominator: 'orders' },
          { id: 'errors', type: 'count', event: 'error', guardrail: true, direction: 'decrease' },
        ],
        experiments: { checkout: { metrics: ['purchased', 'order_value'], guardrails: ['errors'] } },
      }),
    );
    const shop = catalog.project('shop');
    expect(shop?.dimensions).toEqual(['country']);
    expect(shop?.metrics[0]).toEqual({
      id: 'purchased',
      type: 'conversion',
      event: 'purchase',
      window: { delay_hours: 0, hours: 72 },
      guardrail: false,
      direction: 'increase',
    });
    expect(shop?.metrics[4]).toMatchObject({ guardrail: true, direction: 'decrease' });
    expect(shop?.experiments['checkout']).toEqual({
      metrics: ['purchased', 'order_value'],
      guardrails: ['errors'],
    });
  });

  it('a project without analysis settings has none', () => {
    const shop = parseProjectCatalog(catalogWith({})).project('shop');
    expect([shop?.metrics, shop?.dimensions, shop?.experiments]).toEqual([[], [], {}]);
  });

  it('refuses a ratio of a ratio, naming the project, the metric and the field', () => {
    const message = problem({
      metrics: [
        revenue,
        orders,
        { id: 'aov', type: 'ratio', numerator: 'revenue', denominator: 'orders' },
        { id: 'aov2', type: 'ratio', numerator: 'aov', denominator: 'orders' },
      ],
    });
    expect(message).toContain('projects.json');
    expect(message).toMatch(/project "shop", metric "aov2", "numerator" .*: metric "aov" is a ratio/);
    expect(message).toContain('metric "aov" is a ratio');
  });

  it('refuses a cap outside (0, 1) and a window of 0 hours', () => {
    expect(problem({ metrics: [{ ...revenue, cap: { percentile: 1 } }] })).toMatch(/metric "revenue", "cap/);
    expect(problem({ metrics: [{ ...revenue, cap: { percentile: 0 } }] })).toMatch(/metric "revenue"/);
    expect(problem({ metrics: [{ ...revenue, cap: { absolute: -3 } }] })).toMatch(/metric "revenue"/);
    expect(problem({ metrics: [{ ...revenue, window: { hours: 0 } }] })).toMatch(
      /metric "revenue", "window\.hours" .*: must be a number of hours > 0 .*, got number 0/,
    );
    expect(problem({ metrics: [{ ...revenue, window: { hours: 5, delay_hours: -1 } }] })).toMatch(
      /"window\.delay_hours"/,
    );
  });

  it('refuses a metric of an event the project does not define, when it defines events', () => {
    const message = problem({
      eventDefinitions: { events: { purchase: {} } },
      metrics: [revenue, { id: 'signups', type: 'conversion', event: 'signup' }],
    });
    expect(message).toMatch(/metric "signups", "event" .*: event "signup" is not defined/);
  });

  it("takes an experiment's sequential tuning parameter, absent unless set", () => {
    const shop = parseProjectCatalog(
      catalogWith({
        metrics: [revenue],
        experiments: {
          checkout: { metrics: ['revenue'], sequential_tuning_parameter: 20_000 },
          pricing: { metrics: ['revenue'] },
        },
      }),
    ).project('shop');
    expect(shop?.experiments['checkout']?.sequential_tuning_parameter, 'as set').toBe(20_000);
    expect(shop?.experiments['pricing']?.sequential_tuning_parameter, 'absent: 5000 applies').toBeUndefined();
  });

  it('refuses a sequential tuning parameter ≤ 0 or not finite at start, naming the field', () => {
    for (const bad of [0, -5000, Number.POSITIVE_INFINITY, Number.NaN, '5000', null]) {
      const message = problem({
        metrics: [revenue],
        experiments: { checkout: { metrics: ['revenue'], sequential_tuning_parameter: bad } },
      });
      expect(message, String(bad)).toMatch(
        /project "shop", experiment "checkout", "sequential_tuning_parameter" .*: must be a finite number > 0/,
      );
    }
  });

  it('takes CUPED on mean and count metrics, 14 days by default, and derives the lookback per event', () => {
    const catalog = parseProjectCatalog(
      catalogWith({
        metrics: [
          { ...revenue, cuped: {} },
          { ...orders, cuped: { days: 21 } },
          { id: 'views', type: 'count', event: 'view', cuped: { days: 0.5 } },
        ],
      }),
    );
    const shop = catalog.project('shop')!;
    expect(shop.metrics.map((m) => m.cuped)).toEqual([{ days: 14 }, { days: 21 }, { days: 0.5 }]);
    expect(cupedLookbackByEvent(shop.metrics), 'the longest per event, in ms').toEqual({
      purchase: 21 * 86_400_000,
      view: 43_200_000,
    });
    expect(() => catalog.assertCupedWithinRetention(21)).not.toThrow();
    expect(() => catalog.assertCupedWithinRetention(20)).toThrow(
      'Invalid project catalog: project "shop", metric "orders", "cuped.days": 21 days exceed the state retention ' +
        '(RETENTION_DAYS=20): pre-exposure events older than that are evicted before they could feed the covariate',
    );
  });

  it('refuses CUPED on a conversion or a ratio, and a lookback of 0 days or more than a year', () => {
    expect(
      problem({ metrics: [{ id: 'bought', type: 'conversion', event: 'purchase', cuped: {} }] }),
    ).toMatch(
      /metric "bought", "cuped" .*: CUPED applies to mean and count metrics; this metric is a conversion/,
    );
    expect(
      problem({
        metrics: [
          revenue,
          orders,
          { id: 'aov', type: 'ratio', numerator: 'revenue', denominator: 'orders', cuped: {} },
        ],
      }),
    ).toMatch(/metric "aov", "cuped" .*: CUPED applies to mean and count metrics; this metric is a ratio/);
    for (const days of [0, -1, 367, '14']) {
      expect(problem({ metrics: [{ ...revenue, cuped: { days } }] }), String(days)).toMatch(
        /metric "revenue", "cuped.days" .*: must be a number of days > 0 and at most 366/,
      );
    }
  });

  it('refuses unknown metric ids in experiment sets, duplicate ids and misplaced fields', () => {
    expect(problem({ metrics: [revenue], experiments: { checkout: { metrics: ['revenu'] } } })).toMatch(
      /experiment "checkout", "metrics\.0" .*: no metric "revenu"/,
    );
    expect(problem({ metrics: [revenue, revenue] })).toContain('metric "revenue" is defined twice');
    expect(
      problem({ metrics: [{ id: 'bought', type: 'conversion', event: 'purchase', cap: { absolute: 1 } }] }),
    ).toContain('never capped');
    expect(
      problem({
        metrics: [{ id: 'r', type: 'ratio', numerator: 'a', denominator: 'b', window: { hours: 1 } }],
      }),
    ).toContain('a ratio takes no window');
    expect(problem({ metrics: [{ id: 'x', type: 'mean' }] })).toContain('needs the event it counts');
    expect(problem({ metrics: [{ ...revenue, windw: { hours: 1 } }] })).toContain('unknown field "windw"');
    expect(problem({ dimensions: ['country', 'country'] })).toContain('listed twice');
    expect(problem({ dimensions: ['Country'] })).toContain('"dimensions.0"');
  });
});
