/**
 * Answers of the stats API as the CLI's tests need them: the README's own examples (the batch of the
 * quick start, event results and the experiments list) and a catalogue answer with a guardrail and
 * two treatments. Plain JSON, as the API sends it; the tests type them where they use them.
 */

export const experimentsAnswer = {
  project: 'demo',
  experiments: [
    {
      experiment: 'checkout',
      variations: [
        { variation: 'control', units: 2 },
        { variation: 'treatment', units: 2 },
      ],
      units: 4,
      multiple_exposure_units: 0,
      first_exposure_at: '2026-12-05T17:28:28.989Z',
      last_exposure_at: '2026-12-05T17:28:29.120Z',
      last_event_at: '2026-12-05T17:28:29.120Z',
      open_alerts: 0,
      open_alerts_by_kind: {},
    },
  ],
};

export const eventResultsAnswer = {
  experiment: 'checkout',
  metric: 'purchase',
  control: 'control',
  computed_at: '2026-12-05T17:28:31.075Z',
  multiple_exposure_units: 0,
  srm: { p_value: 1, observed: { control: 2, treatment: 2 }, expected: { control: 2, treatment: 2 } },
  variations: [
    {
      variation: 'control',
      units: 2,
      conversions: 1,
      conversion_rate: 0.5,
      value_per_unit: 10,
      value_variance: 200,
      count_per_unit: 0.5,
      count_variance: 0.5,
      mean_value: 20,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      value_lift: null,
      value_p_value: null,
      count_p_value: null,
    },
    {
      variation: 'treatment',
      units: 2,
      conversions: 1,
      conversion_rate: 0.5,
      value_per_unit: 25,
      value_variance: 1250,
      count_per_unit: 1,
      count_variance: 2,
      mean_value: 25,
      lift: 0,
      lift_ci: [-1.9599639845400538, 1.9599639845400538],
      p_value: 1,
      adjusted_p_value: 1,
      value_lift: 1.5,
      value_p_value: 0.6574813428347563,
      count_p_value: 0.7117227912336694,
    },
  ],
};

const block = (
  metric: string,
  type: string,
  extra: Record<string, unknown>,
  variations: Array<
    [string, number, number, number, number | null, [number, number] | null, number | null, number | null]
  >,
) => ({
  metric,
  type,
  event: null,
  numerator: null,
  denominator: null,
  guardrail: false,
  direction: 'increase',
  window: null,
  cap: null,
  cap_value: null,
  denominator_cap_value: null,
  test: type === 'conversion' ? 'two_proportion_z' : 'welch_t',
  ...extra,
  variations: variations.map(
    ([variation, units, conversions, estimate, lift, lift_ci, p_value, adjusted]) => ({
      variation,
      units,
      conversions,
      sum: conversions,
      denominator_sum: null,
      estimate,
      variance: 0.1,
      lift,
      lift_ci,
      p_value,
      adjusted_p_value: adjusted,
    }),
  ),
});

/** Three variations (so Holm's adjustment shows), a goal and a guardrail, and a broken split. */
export const metricResultsAnswer = {
  project: 'demo',
  experiment: 'checkout_v2',
  control: 'control',
  confidence: 0.95,
  computed_at: '2026-12-05T17:28:31.075Z',
  multiple_exposure_units: 3,
  units: [
    { variation: 'control', units: 1000 },
    { variation: 'a', units: 1010 },
    { variation: 'b', units: 900 },
  ],
  srm: {
    p_value: 0.0002,
    observed: { control: 1000, a: 1010, b: 900 },
    expected: { control: 970, a: 970, b: 970 },
  },
  metrics: [
    block('purchased', 'conversion', { event: 'purchase', window: { delay_hours: 0, hours: 72 } }, [
      ['control', 1000, 100, 0.1, null, null, null, null],
      ['a', 1010, 140, 0.1386, 0.386, [0.1, 0.67], 0.008, 0.016],
      ['b', 900, 80, 0.0889, -0.111, [-0.3, 0.08], 0.4, 0.4],
    ]),
    block(
      'errors',
      'count',
      { event: 'error', guardrail: true, direction: 'decrease', cap: { absolute: 10 }, cap_value: 10 },
      [
        ['control', 1000, 100, 1.2345, null, null, null, null],
        ['a', 1010, 140, 1.6, 0.296, [0.1, 0.5], 0.00001, 0.00002],
        ['b', 900, 80, 1.1, -0.11, [-0.2, -0.01], 0.02, 0.02],
      ],
    ),
  ],
};

export const catalogueAnswer = {
  project: 'demo',
  dimensions: ['country'],
  metrics: [
    { id: 'purchased', type: 'conversion', event: 'purchase', guardrail: false, direction: 'increase' },
    { id: 'errors', type: 'count', event: 'error', guardrail: true, direction: 'decrease' },
  ],
  experiments: { checkout_v2: { metrics: ['purchased'], guardrails: ['errors'], control: 'control' } },
};
