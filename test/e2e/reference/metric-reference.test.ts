import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricStats, MetricVariationStats } from '../../../services/stats/src/math/metric-stats.ts';
import type { MetricConfig } from '../../../shared/projects/metric-catalog.ts';
import {
  NONE_VALUE,
  OTHER_VALUE,
  exposureDimensionValue,
  linearQuantile,
  referenceDimensionBreakdown,
  referenceMetricStats,
  referenceMetricTimeseries,
  timeseriesBoundaries,
} from './metric-reference.ts';
import type { MetricReferenceOptions } from './metric-reference.ts';
import type { AcceptedEvent, ReferenceSettings } from './semantics-reference.ts';

// Each case is built so that one rule decides the figure; expected figures are written out, except
// quantiles, which come from numpy through test/fixtures/metric-fixtures.json (never derived by hand).

/** The "quantiles" part of test/fixtures/metric-fixtures.json (numpy.quantile, default method). */
interface QuantileFixture {
  name: string;
  values: number[];
  cases: { p: number; expected: number }[];
}
const fixtures = JSON.parse(
  readFileSync(new URL('../../fixtures/metric-fixtures.json', import.meta.url), 'utf8'),
) as { quantiles: QuantileFixture[] };

const P = 'shop';
const E = 'checkout';
const H = 3_600_000;
const T0 = Date.parse('2026-11-20T10:30:00Z');
const cumulative: ReferenceSettings = { [P]: { attribution: 'cumulative' } };

type Ids = { user_id?: string; anonymous_id?: string };

function exposure(
  ids: Ids,
  variation: string,
  timestamp: number,
  extra: Partial<AcceptedEvent> = {},
): AcceptedEvent {
  return { project: P, kind: 'exposure', timestamp, experiment: E, variation, ...ids, ...extra };
}

function track(
  ids: Ids,
  timestamp: number,
  event: string,
  extra: Partial<AcceptedEvent> = {},
): AcceptedEvent {
  return { project: P, kind: 'track', timestamp, event, ...ids, ...extra };
}

function alias(anonymousId: string, userId: string, timestamp = 0): AcceptedEvent {
  return { project: P, kind: 'alias', timestamp, anonymous_id: anonymousId, user_id: userId };
}

function metric(id: string, type: MetricConfig['type'], extra: Partial<MetricConfig> = {}): MetricConfig {
  return {
    id,
    type,
    ...(type === 'ratio' ? {} : { event: 'purchase' }),
    guardrail: false,
    direction: 'increase',
    ...extra,
  };
}

function stats(
  events: AcceptedEvent[],
  m: MetricConfig,
  options: MetricReferenceOptions = {},
  catalogue: MetricConfig[] = [m],
  settings: ReferenceSettings = cumulative,
): MetricStats {
  return referenceMetricStats(events, settings, P, E, m, catalogue, options);
}

function arm(result: MetricStats, variation: string): MetricVariationStats {
  const found = result.variations.find((v) => v.variation === variation);
  if (found === undefined)
    throw new Error(`no variation ${variation} in ${JSON.stringify(result.variations)}`);
  return found;
}

/** The statistics of a variation whose units have the given v_u (and d_u for a ratio). */
function expected(variation: string, conversions: number, v: number[], d?: number[]): MetricVariationStats {
  const ds = d ?? v.map(() => 0);
  return {
    variation,
    units: v.length,
    conversions,
    sum: v.reduce((s, x) => s + x, 0),
    sumSq: v.reduce((s, x) => s + x * x, 0),
    denominatorSum: d === undefined ? 0 : ds.reduce((s, x) => s + x, 0),
    denominatorSumSq: d === undefined ? 0 : ds.reduce((s, x) => s + x * x, 0),
    crossSum: d === undefined ? 0 : v.reduce((s, x, i) => s + x * (ds[i] as number), 0),
  };
}

describe('windows', () => {
  const windowed = metric('orders_in_window', 'count', { window: { delay_hours: 1, hours: 2 } });

  it('counts from first_exposure + delay (inclusive) to first_exposure + delay + hours (exclusive)', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + H - 1, 'purchase'),
      track({ user_id: 'u1' }, T0 + H, 'purchase'),
      track({ user_id: 'u1' }, T0 + 3 * H - 1, 'purchase'),
      track({ user_id: 'u1' }, T0 + 3 * H, 'purchase'),
    ];
    expect(arm(stats(events, windowed), 'A'), 'the two events inside [T0+1h, T0+3h)').toEqual(
      expected('A', 1, [2]),
    );
  });

  it('gives no conversion to a unit whose only events fall outside the window', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0, 'purchase'),
      track({ user_id: 'u1' }, T0 + 3 * H, 'purchase'),
    ];
    const converted = metric('purchased', 'conversion', { window: { delay_hours: 1, hours: 2 } });
    expect(arm(stats(events, converted), 'A'), 'c_u = 0').toEqual(expected('A', 0, [0]));
  });

  it('starts at the first exposure itself when the delay is 0', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0 - 1, 'purchase'),
      track({ user_id: 'u1' }, T0, 'purchase'),
    ];
    const noDelay = metric('orders', 'count', { window: { delay_hours: 0, hours: 1 } });
    expect(arm(stats(events, noDelay), 'A'), 'the event at T0 only').toEqual(expected('A', 1, [1]));
  });

  it('measures the window from the merged unit’s first exposure after an alias', () => {
    const events = [
      exposure({ anonymous_id: 'a1' }, 'A', T0),
      exposure({ user_id: 'u1' }, 'A', T0 + 5 * H),
      track({ user_id: 'u1' }, T0 + 5 * H, 'purchase'),
      alias('a1', 'u1'),
    ];
    const twoHours = metric('orders', 'count', { window: { delay_hours: 0, hours: 2 } });
    expect(arm(stats(events, twoHours), 'A'), 'T0 + 5h is outside [T0, T0 + 2h)').toEqual(
      expected('A', 0, [0]),
    );
  });

  it('still applies decision attribution inside a window', () => {
    const settings: ReferenceSettings = { [P]: { attribution: 'decision' } };
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0, { decision_id: 'd1' }),
      track({ user_id: 'u1' }, T0 + H, 'purchase', { decision_id: 'other' }),
      track({ user_id: 'u1' }, T0 + H, 'purchase', { decision_id: 'd1' }),
    ];
    const m = metric('orders', 'count', { window: { delay_hours: 0, hours: 2 } });
    expect(arm(stats(events, m, {}, [m], settings), 'A'), 'only the d1 event').toEqual(expected('A', 1, [1]));
  });
});

describe('caps', () => {
  it('caps x_u at an absolute cap and leaves conversions alone', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      exposure({ user_id: 'u2' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + 1, 'purchase', { value: 30 }),
      track({ user_id: 'u2' }, T0 + 1, 'purchase', { value: 100 }),
      track({ user_id: 'u2' }, T0 + 2, 'purchase', { value: 50 }),
    ];
    const result = stats(events, metric('revenue', 'mean', { cap: { absolute: 100 } }));
    expect(result.capValue, 'the absolute cap').toBe(100);
    expect(arm(result, 'A'), 'x = 30 and min(150, 100)').toEqual(expected('A', 2, [30, 100]));
  });

  it('caps k_u of a count metric, weights included', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + 1, 'purchase', { sample: 0.25 }),
    ];
    const result = stats(events, metric('orders', 'count', { cap: { absolute: 3 } }));
    expect(arm(result, 'A'), 'k = 4 capped at 3').toEqual(expected('A', 1, [3]));
  });

  it('takes numpy’s quantile of the positive x_u over all variations as the percentile cap', () => {
    const sample = fixtures.quantiles.find((q) => q.name === 'uniform, n = 10');
    const q90 = sample?.cases.find((c) => c.p === 0.9)?.expected;
    if (sample === undefined || q90 === undefined)
      throw new Error('fixture "uniform, n = 10" at p = 0.9 missing');
    const events: AcceptedEvent[] = [];
    sample.values.forEach((value, i) => {
      const variation = i % 2 === 0 ? 'A' : 'B';
      events.push(
        exposure({ user_id: `u${i}` }, variation, T0),
        track({ user_id: `u${i}` }, T0 + 1, 'purchase', { value }),
      );
    });
    // Not in the quantile: a unit without events, a unit whose events add to 0, one whose values add to < 0.
    events.push(exposure({ user_id: 'none' }, 'A', T0));
    events.push(
      exposure({ user_id: 'zero' }, 'B', T0),
      track({ user_id: 'zero' }, T0 + 1, 'purchase', { value: 0 }),
    );
    events.push(
      exposure({ user_id: 'neg' }, 'B', T0),
      track({ user_id: 'neg' }, T0 + 1, 'purchase', { value: -5 }),
    );

    const result = stats(events, metric('revenue', 'mean', { cap: { percentile: 0.9 } }));
    expect(result.capValue, 'numpy.quantile of the 10 positive values').toBe(q90);
    const cappedValues = sample.values.map((v) => Math.min(v, q90));
    expect(arm(result, 'A'), 'A: the even-indexed values capped, and a zero').toEqual(
      expected('A', 5, [...cappedValues.filter((_, i) => i % 2 === 0), 0]),
    );
    expect(arm(result, 'B'), 'B: the odd-indexed values capped, 0 and −5 uncapped').toEqual(
      expected('B', 7, [...cappedValues.filter((_, i) => i % 2 === 1), 0, -5]),
    );
  });

  it('has no percentile cap when no unit has a positive value', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      exposure({ user_id: 'u2' }, 'A', T0),
      track({ user_id: 'u2' }, T0 + 1, 'purchase', { value: -2 }),
    ];
    const result = stats(events, metric('revenue', 'mean', { cap: { percentile: 0.9 } }));
    expect(result.capValue, 'nothing to cap').toBeNull();
    expect(arm(result, 'A'), 'values as they are').toEqual(expected('A', 1, [0, -2]));
  });

  it('reports no cap for an uncapped metric', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0, 'purchase', { value: 9 }),
    ];
    const result = stats(events, metric('revenue', 'mean'));
    expect([result.capValue, result.denominatorCapValue], 'caps').toEqual([null, null]);
  });
});

describe('linearQuantile against numpy', () => {
  for (const sample of fixtures.quantiles) {
    it(`equals numpy.quantile for "${sample.name}"`, () => {
      for (const c of sample.cases) {
        expect(linearQuantile(sample.values, c.p), `p = ${c.p}`).toBe(c.expected);
      }
    });
  }
});

describe('ratio', () => {
  const revenue = metric('revenue', 'mean', { cap: { absolute: 50 } });
  const views = metric('views', 'count', { event: 'page_view', window: { delay_hours: 0, hours: 1 } });
  const perView = metric('revenue_per_view', 'ratio', { numerator: 'revenue', denominator: 'views' });
  const catalogue = [revenue, views, perView];

  it('takes v_u and d_u from the numerator and denominator, each with its own window and cap', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      exposure({ user_id: 'u2' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + 3 * H, 'purchase', { value: 30 }),
      track({ user_id: 'u1' }, T0 + 4 * H, 'purchase', { value: 40 }),
      track({ user_id: 'u1' }, T0 + H / 6, 'page_view'),
      track({ user_id: 'u1' }, T0 + 2 * H, 'page_view'),
      track({ user_id: 'u2' }, T0, 'page_view'),
      track({ user_id: 'u2' }, T0 + H - 1, 'page_view', { sample: 0.5 }),
    ];
    const result = stats(events, perView, {}, catalogue);
    // u1: v = min(70, 50) = 50 (no window on revenue), d = 1 (the 2h view is outside views' 1h window);
    // u2: v = 0, d = 1 + 2.
    expect(arm(result, 'A'), 'sums of v, d and v·d').toEqual(expected('A', 1, [50, 0], [1, 3]));
    expect([result.capValue, result.denominatorCapValue], 'numerator and denominator caps').toEqual([
      50,
      null,
    ]);
  });

  it('counts as conversions the units with a counted numerator event, even of value 0', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      exposure({ user_id: 'u2' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + 1, 'purchase'),
      track({ user_id: 'u2' }, T0 + 1, 'page_view'),
    ];
    expect(arm(stats(events, perView, {}, catalogue), 'A').conversions, 'u1 only').toBe(1);
  });

  it('refuses a ratio whose operand is not a mean or count of the catalogue', () => {
    const events = [exposure({ user_id: 'u1' }, 'A', T0)];
    expect(() => stats(events, perView, {}, [revenue, perView]), 'views missing').toThrow(
      /denominator "views"/,
    );
  });
});

describe('units and variations', () => {
  it('lists every variation, counts units without events as zeros and leaves out multiple-exposure units', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'B', T0),
      exposure({ user_id: 'u2' }, 'B', T0),
      exposure({ user_id: 'u3' }, 'A', T0),
      exposure({ user_id: 'u3' }, 'C', T0 + 1),
      track({ user_id: 'u1' }, T0 + 1, 'purchase', { value: 4 }),
      track({ user_id: 'u3' }, T0 + 1, 'purchase', { value: 99 }),
    ];
    expect(stats(events, metric('revenue', 'mean')).variations, 'A and C only had u3').toEqual([
      expected('A', 0, []),
      expected('B', 1, [4, 0]),
      expected('C', 0, []),
    ]);
  });
});

describe('dimensions', () => {
  it('reads properties, then context, then (none), stringifying numbers and booleans', () => {
    const e = (extra: Partial<AcceptedEvent>) => exposure({ user_id: 'u' }, 'A', T0, extra);
    expect(exposureDimensionValue(e({ properties: { country: 'DE' } }), 'country'), 'string').toBe('DE');
    expect(exposureDimensionValue(e({ properties: { tier: 3 } }), 'tier'), 'number').toBe('3');
    expect(exposureDimensionValue(e({ properties: { beta: false } }), 'beta'), 'boolean').toBe('false');
    expect(
      exposureDimensionValue(
        e({ properties: { platform: 'web' }, context: { platform: 'ios' } }),
        'platform',
      ),
      'properties first',
    ).toBe('web');
    expect(
      exposureDimensionValue(e({ properties: {}, context: { platform: 'ios' } }), 'platform'),
      'context',
    ).toBe('ios');
    expect(exposureDimensionValue(e({ properties: null, context: null }), 'platform'), 'neither').toBe(
      NONE_VALUE,
    );
  });

  it('takes the first exposure’s value, also after an alias chain merges two devices', () => {
    const events = [
      exposure({ user_id: 'account' }, 'A', T0 + 2 * H, { properties: { country: 'DE' } }),
      exposure({ anonymous_id: 'phone' }, 'A', T0, { properties: { country: 'FR' } }),
      exposure({ anonymous_id: 'laptop' }, 'A', T0 + H, { properties: { country: 'ES' } }),
      track({ user_id: 'account' }, T0 + 3 * H, 'purchase', { value: 7 }),
    ];
    const before = referenceDimensionBreakdown(events, cumulative, P, E, 'country');
    expect(
      before.values.map((v) => [v.value, v.units]),
      'three units before the aliases',
    ).toEqual([
      ['DE', 1],
      ['ES', 1],
      ['FR', 1],
    ]);
    // phone → device user → account; laptop → account directly.
    const merged = [
      ...events,
      alias('phone', 'device_user'),
      alias('device_user', 'account'),
      alias('laptop', 'account'),
    ];
    const after = referenceDimensionBreakdown(merged, cumulative, P, E, 'country');
    expect(after.values, 'one unit, in the phone’s country').toEqual([
      { value: 'FR', units: 1, variations: [{ variation: 'A', units: 1 }], multipleExposureUnits: 0 },
    ]);
    const fr = stats(merged, metric('revenue', 'mean'), { dimension: { name: 'country', value: 'FR' } });
    const de = stats(merged, metric('revenue', 'mean'), { dimension: { name: 'country', value: 'DE' } });
    expect(arm(fr, 'A'), 'the account’s purchase counts in FR').toEqual(expected('A', 1, [7]));
    expect(arm(de, 'A'), 'and no longer in DE').toEqual(expected('A', 0, []));
  });

  it('counts multiple-exposure units in their value, and ranks values by analysed units only', () => {
    const events = [
      exposure({ user_id: 'm1' }, 'A', T0, { properties: { country: 'DE' } }),
      exposure({ user_id: 'm1' }, 'B', T0 + 1, { properties: { country: 'FR' } }),
      exposure({ user_id: 'm2' }, 'B', T0, { properties: { country: 'DE' } }),
      exposure({ user_id: 'm2' }, 'A', T0 + 1),
      exposure({ user_id: 'u1' }, 'A', T0, { properties: { country: 'FR' } }),
    ];
    expect(referenceDimensionBreakdown(events, cumulative, P, E, 'country').values, 'FR first').toEqual([
      {
        value: 'FR',
        units: 1,
        variations: [
          { variation: 'A', units: 1 },
          { variation: 'B', units: 0 },
        ],
        multipleExposureUnits: 0,
      },
      {
        value: 'DE',
        units: 0,
        variations: [
          { variation: 'A', units: 0 },
          { variation: 'B', units: 0 },
        ],
        multipleExposureUnits: 2,
      },
    ]);
  });

  describe('pooling beyond the 20 largest values', () => {
    // 'z' has 3 units, 'a'…'v' one each (22 values), 'mx' only multiple-exposure units: the 20 kept are z
    // and a…s (ties by name); t, u, v and mx are pooled.
    const letters = 'abcdefghijklmnopqrstuv'.split('');
    const events: AcceptedEvent[] = [];
    letters.forEach((c, i) =>
      events.push(
        exposure({ user_id: `u_${c}` }, i % 2 === 0 ? 'A' : 'B', T0, { properties: { country: c } }),
      ),
    );
    for (let k = 0; k < 3; k++)
      events.push(exposure({ user_id: `z${k}` }, 'A', T0, { properties: { country: 'z' } }));
    for (let k = 0; k < 5; k++) {
      events.push(exposure({ user_id: `mx${k}` }, 'A', T0, { properties: { country: 'mx' } }));
      events.push(exposure({ user_id: `mx${k}` }, 'B', T0 + 1));
    }
    for (const c of ['t', 'u', 'v', 'a'])
      events.push(track({ user_id: `u_${c}` }, T0 + 1, 'purchase', { value: 10 }));

    it('keeps the 20 values with most units and pools the rest as (other), sorted by units then name', () => {
      const { values } = referenceDimensionBreakdown(events, cumulative, P, E, 'country');
      expect(
        values.map((v) => v.value),
        'order',
      ).toEqual([OTHER_VALUE, 'z', ...letters.slice(0, 19)]);
      expect(values[0], '(other): t, u, v analysed, mx multiple-exposure').toEqual({
        value: OTHER_VALUE,
        units: 3,
        // t (index 19) → B, u (20) → A, v (21) → B
        variations: [
          { variation: 'A', units: 1 },
          { variation: 'B', units: 2 },
        ],
        multipleExposureUnits: 5,
      });
    });

    it('filters metric statistics to (other) as the pooled values, and a pooled value alone to nothing', () => {
      const revenue = metric('revenue', 'mean');
      const other = stats(events, revenue, { dimension: { name: 'country', value: OTHER_VALUE } });
      expect(other.variations, 'u, then t and v').toEqual([
        expected('A', 1, [10]),
        expected('B', 2, [10, 10]),
      ]);
      const t = stats(events, revenue, { dimension: { name: 'country', value: 't' } });
      expect(t.variations, 't is reported in (other)').toEqual([expected('A', 0, []), expected('B', 0, [])]);
    });
  });

  it('computes a percentile cap over the whole experiment, not within the dimension value', () => {
    const events: AcceptedEvent[] = [];
    [1, 2, 3, 40, 50, 60].forEach((value, i) => {
      const country = i < 3 ? 'DE' : 'FR';
      events.push(exposure({ user_id: `u${i}` }, 'A', T0, { properties: { country } }));
      events.push(track({ user_id: `u${i}` }, T0 + 1, 'purchase', { value }));
    });
    const capped = metric('revenue', 'mean', { cap: { percentile: 0.9 } });
    const whole = stats(events, capped);
    const de = stats(events, capped, { dimension: { name: 'country', value: 'DE' } });
    expect(de.capValue, 'the experiment’s q').toBe(whole.capValue);
    expect(de.capValue, 'the experiment’s q, not DE’s').toBe(linearQuantile([1, 2, 3, 40, 50, 60], 0.9));
    expect(de.capValue, 'not DE’s own q').not.toBe(linearQuantile([1, 2, 3], 0.9));
    expect(arm(de, 'A'), 'DE values under the cap').toEqual(expected('A', 3, [1, 2, 3]));
  });
});

describe('as_of', () => {
  const count = metric('orders', 'count');

  it('counts exposures and track events with timestamp ≤ T, inclusive', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      exposure({ user_id: 'u2' }, 'A', T0 + H),
      exposure({ user_id: 'u3' }, 'A', T0 + H + 1),
      track({ user_id: 'u1' }, T0 + H, 'purchase'),
      track({ user_id: 'u1' }, T0 + H + 1, 'purchase'),
    ];
    expect(arm(stats(events, count, { asOf: T0 + H }), 'A'), 'u1 and u2, one purchase').toEqual(
      expected('A', 1, [1, 0]),
    );
  });

  it('uses identity as known now: an alias sent after T still merges', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ anonymous_id: 'a1' }, T0 + 1, 'purchase'),
      alias('a1', 'u1', T0 + 10 * H),
    ];
    expect(arm(stats(events, count, { asOf: T0 + H }), 'A'), 'a1’s purchase is u1’s at T0 + 1h').toEqual(
      expected('A', 1, [1]),
    );
  });

  it('leaves out at every T a unit that is a multiple-exposure unit now', () => {
    const events = [
      exposure({ user_id: 'm' }, 'A', T0),
      track({ user_id: 'm' }, T0 + 1, 'purchase'),
      exposure({ user_id: 'm' }, 'B', T0 + 5 * H),
      exposure({ user_id: 'u' }, 'A', T0 + 2 * H),
    ];
    expect(
      stats(events, count, { asOf: T0 + H }).variations,
      'only A was named by then; m is left out',
    ).toEqual([expected('A', 0, [])]);
    const atT = (asOf: number) =>
      referenceDimensionBreakdown(events, cumulative, P, E, 'country', { asOf }).values.map((v) => [
        v.value,
        v.units,
        v.multipleExposureUnits,
      ]);
    expect(atT(T0 - 1), 'before its first exposure m is nowhere').toEqual([]);
    expect(atT(T0 + 3 * H), 'exposed by then: counted as multiple-exposure').toEqual([[NONE_VALUE, 1, 1]]);
  });

  it('recomputes the percentile cap at T', () => {
    const events: AcceptedEvent[] = [];
    [5, 8, 13, 100, 200].forEach((value, i) => {
      events.push(exposure({ user_id: `u${i}` }, 'A', T0));
      events.push(track({ user_id: `u${i}` }, T0 + i * H, 'purchase', { value }));
    });
    const capped = metric('revenue', 'mean', { cap: { percentile: 0.9 } });
    expect(stats(events, capped, { asOf: T0 + 2 * H }).capValue, 'over 5, 8, 13').toBe(
      linearQuantile([5, 8, 13], 0.9),
    );
    expect(stats(events, capped).capValue, 'over all five').toBe(linearQuantile([5, 8, 13, 100, 200], 0.9));
  });
});

describe('time series', () => {
  it('has every UTC hour boundary strictly after the first exposure up to now, plus now', () => {
    const now = Date.parse('2026-11-20T13:15:00Z');
    expect(
      timeseriesBoundaries(T0, now, 'hour').map((t) => new Date(t).toISOString()),
      'hours',
    ).toEqual([
      '2026-11-20T11:00:00.000Z',
      '2026-11-20T12:00:00.000Z',
      '2026-11-20T13:00:00.000Z',
      '2026-11-20T13:15:00.000Z',
    ]);
  });

  it('has UTC day boundaries, excludes a first exposure on a boundary and does not repeat a now on one', () => {
    const first = Date.parse('2026-11-18T00:00:00Z');
    const now = Date.parse('2026-11-20T00:00:00Z');
    expect(
      timeseriesBoundaries(first, now, 'day').map((t) => new Date(t).toISOString()),
      'days',
    ).toEqual(['2026-11-19T00:00:00.000Z', '2026-11-20T00:00:00.000Z']);
    expect(timeseriesBoundaries(first + 1, first + 2, 'day'), 'within one day: now alone').toEqual([
      first + 2,
    ]);
  });

  it('ends with the figures of now', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', T0),
      track({ user_id: 'u1' }, T0 + 30 * H, 'purchase', { value: 3 }),
      exposure({ user_id: 'u2' }, 'B', T0 + 26 * H),
    ];
    const revenue = metric('revenue', 'mean');
    const now = T0 + 40 * H;
    const series = referenceMetricTimeseries(events, cumulative, P, E, revenue, [revenue], now, 'day');
    expect(
      series.map((p) => p.asOf),
      'two midnights, then now',
    ).toEqual(timeseriesBoundaries(T0, now, 'day'));
    expect(series[0]?.stats.variations, 'first midnight: u1 alone, nothing bought').toEqual([
      expected('A', 0, [0]),
    ]);
    expect(series.at(-1)?.stats, 'now').toEqual(stats(events, revenue));
  });
});
