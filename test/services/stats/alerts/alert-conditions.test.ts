import { describe, expect, it } from 'vitest';
import {
  breachesGuardrail,
  guardrailMetricsOf,
  guardrailObservation,
  srmObservation,
} from '../../../../services/stats/src/alerts/alert-conditions.ts';
import type {
  MetricResults,
  MetricVariationResult,
} from '../../../../services/stats/src/math/metric-results.ts';
import type { MetricConfig } from '../../../../shared/projects/metric-catalog.ts';

describe('SRM condition', () => {
  it('holds below p = 0.001 only, and not when the test is undefined', () => {
    const at = (p: number | null) => srmObservation({ p_value: p, observed: {}, expected: {} }).holds;
    expect([at(0.000_999), at(0.001), at(0.5), at(null)]).toEqual([true, false, false, false]);
  });
});

describe('guardrail condition: the sequential interval wholly on the bad side', () => {
  it.each([
    ['increase', [-0.2, -0.01], true],
    ['increase', [-0.2, 0.01], false],
    ['increase', [0.01, 0.2], false],
    ['decrease', [0.01, 0.2], true],
    ['decrease', [-0.01, 0.2], false],
    ['decrease', [-0.2, -0.01], false],
  ] as const)('direction %s, interval %j: %s', (direction, interval, breached) => {
    expect(breachesGuardrail(interval, direction)).toBe(breached);
  });

  it('is not breached without an interval', () => {
    expect(breachesGuardrail(null, 'increase')).toBe(false);
  });

  const variation = (name: string, liftCi: [number, number] | null): MetricVariationResult => ({
    variation: name,
    units: 100,
    conversions: 10,
    sum: 10,
    denominator_sum: null,
    estimate: 0.1,
    variance: 0.09,
    lift: liftCi === null ? null : (liftCi[0] + liftCi[1]) / 2,
    lift_ci: null,
    p_value: null,
    adjusted_p_value: null,
    sequential: name === 'control' ? null : { lift_ci: liftCi, p_value: 0.01, tuning_parameter: 5000 },
    cuped: null,
  });

  it('holds while any treatment breaches, and lists each treatment with its sequential block', () => {
    const results: MetricResults = {
      test: 'welch_t',
      variations: [variation('control', null), variation('b', [0.05, 0.3]), variation('c', [-0.1, 0.2])],
    };
    const observation = guardrailObservation({ id: 'errors', direction: 'decrease' }, results, 'control');
    expect(observation.holds, 'b breaches').toBe(true);
    expect(observation.details).toEqual({
      direction: 'decrease',
      control: 'control',
      variations: [
        {
          variation: 'b',
          lift: 0.175,
          sequential: { lift_ci: [0.05, 0.3], p_value: 0.01, tuning_parameter: 5000 },
          breached: true,
        },
        {
          variation: 'c',
          lift: 0.05,
          sequential: { lift_ci: [-0.1, 0.2], p_value: 0.01, tuning_parameter: 5000 },
          breached: false,
        },
      ],
    });
  });
});

describe('guardrailMetricsOf', () => {
  const metric = (id: string, guardrail = false): MetricConfig => ({
    id,
    type: 'count',
    event: id,
    guardrail,
    direction: 'decrease',
  });

  it("watches the experiment set's guardrails, then every metric marked guardrail, once each", () => {
    const project = {
      metrics: [metric('errors', true), metric('latency'), metric('purchases'), metric('crashes', true)],
      experiments: { checkout: { metrics: ['purchases'], guardrails: ['latency', 'errors'] } },
    };
    expect(guardrailMetricsOf(project, 'checkout').metrics.map((m) => m.id)).toEqual([
      'latency',
      'errors',
      'crashes',
    ]);
    expect(
      guardrailMetricsOf(project, 'no_set').metrics.map((m) => m.id),
      'an experiment without a metric set',
    ).toEqual(['errors', 'crashes']);
  });

  it('watches at most 20, the bound of one results request, and counts the rest', () => {
    const metrics = Array.from({ length: 23 }, (_, i) => metric(`g${i}`, true));
    const watched = guardrailMetricsOf({ metrics, experiments: {} }, 'checkout');
    expect([watched.metrics.length, watched.dropped]).toEqual([20, 3]);
  });
});
