import { describe, expect, it } from 'vitest';
import type { EventResultsAnswer, MetricBlock, MetricVariation } from '../../ui/src/api-types.ts';
import {
  comparisonOf,
  CUPED_TEST,
  eventView,
  hasSequential,
  metricViews,
  shownAdjustment,
  shownFigures,
  verdictOf,
} from '../../ui/src/figures.ts';

const block = (over: Partial<MetricBlock> = {}): MetricBlock => ({
  metric: 'revenue_p90',
  type: 'mean',
  event: 'purchase',
  numerator: null,
  denominator: null,
  guardrail: false,
  direction: 'increase',
  window: { delay_hours: 1, hours: 36 },
  cap: { percentile: 0.9 },
  cap_value: 123.456,
  test: 'welch_t',
  variations: [
    {
      variation: 'control',
      units: 100,
      conversions: 10,
      sum: 500,
      estimate: 5,
      lift: null,
      lift_ci: null,
      p_value: null,
      adjusted_p_value: null,
      sequential: null,
    },
    {
      variation: 'treatment',
      units: 110,
      conversions: 20,
      sum: 800,
      estimate: 7.27,
      lift: 0.45,
      lift_ci: [0.1, 0.8],
      p_value: 0.01,
      adjusted_p_value: 0.02,
      sequential: { lift_ci: [-0.05, 0.95], p_value: 0.2, tuning_parameter: 5000 },
    },
  ],
  ...over,
});

/** A CUPED count metric with two treatments, as the API sends it: adjusted figures beside the unadjusted ones. */
const cupedBlock = (): MetricBlock => {
  const [control, treatment] = block().variations as [MetricVariation, MetricVariation];
  const none = { lift: null, lift_ci: null, p_value: null, adjusted_p_value: null, sequential: null };
  return block({
    metric: 'orders_cuped',
    type: 'count',
    cap: null,
    cap_value: null,
    window: null,
    cuped: { days: 0.1, note: 'y_u sums the metric over the unit’s events before its first exposure.' },
    variations: [
      {
        ...control,
        cuped: {
          estimate: null,
          variance: null,
          theta: null,
          control_estimate: null,
          ...none,
          variance_reduction: null,
        },
      },
      {
        ...treatment,
        cuped: {
          estimate: 6.9,
          variance: 2.1,
          theta: 0.8,
          control_estimate: 5.1,
          lift: 0.36,
          lift_ci: [0.2, 0.52],
          p_value: 0.004,
          adjusted_p_value: 0.008,
          sequential: { lift_ci: [0.01, 0.71], p_value: 0.04, tuning_parameter: 5000 },
          variance_reduction: 0.234,
        },
      },
      {
        ...treatment,
        variation: 'treatment_b',
        cuped: {
          estimate: 5,
          variance: 2.4,
          theta: 0.7,
          control_estimate: 5.05,
          lift: -0.01,
          lift_ci: [-0.2, 0.18],
          p_value: 0.9,
          adjusted_p_value: 0.9,
          sequential: null,
          variance_reduction: -0.012,
        },
      },
    ],
  });
};

/** The control's comparison fields in an event answer: all null. */
const CONTROL_COMPARISONS = Object.fromEntries(
  ['lift', 'lift_ci', 'p_value', 'adjusted_p_value', 'value_lift', 'value_p_value', 'count_p_value'].map(
    (f) => [f, null],
  ),
) as Record<
  'lift' | 'lift_ci' | 'p_value' | 'adjusted_p_value' | 'value_lift' | 'value_p_value' | 'count_p_value',
  null
>;

describe('results page figures', () => {
  it('says significance in words from the p-value, the lift and the metric direction', () => {
    expect(verdictOf(0.01, 0.2, 0.95, 'increase')).toEqual({
      kind: 'better',
      words: 'Significantly higher (better)',
    });
    expect(verdictOf(0.01, -0.2, 0.95, 'increase')).toEqual({
      kind: 'worse',
      words: 'Significantly lower (worse)',
    });
    expect(verdictOf(0.01, 0.2, 0.95, 'decrease')).toEqual({
      kind: 'worse',
      words: 'Significantly higher (worse)',
    });
    expect(verdictOf(0.05, 0.2, 0.95, 'increase').kind, 'p equal to alpha is not significant').toBe(
      'neutral',
    );
    expect(verdictOf(0.02, 0.2, 0.99, 'increase').kind, 'the level follows the confidence').toBe('neutral');
    expect(verdictOf(null, 0.2, 0.95, 'increase')).toEqual({ kind: 'none', words: 'Not enough data' });
    expect(verdictOf(0.3, null, 0.95, 'increase').words, 'no lift (control at 0), p known').toBe(
      'Not significant',
    );
    expect(verdictOf(0.001, null, 0.95, 'increase')).toEqual({
      kind: 'neutral',
      words: 'Significant (no relative lift: the control is at 0)',
    });
  });

  it("keeps the API's numbers and decides fixed-horizon significance on the Holm-adjusted p-value", () => {
    const [view] = metricViews([block({ variations: block().variations.map((v) => ({ ...v })) })], 0.95);
    const treatment = view?.rows[1];
    expect(treatment?.fixed).toMatchObject({ lift: 0.45, ci: [0.1, 0.8], p: 0.01, adjustedP: 0.02 });
    expect(treatment?.fixed?.verdict.kind).toBe('better');
    const strict = metricViews([block()], 0.985)[0]?.rows[1];
    expect(strict?.fixed?.verdict.kind, 'p 0.01 < 0.015 but adjusted 0.02 is not').toBe('neutral');
    expect(view?.rows[0]).toMatchObject({ control: true, fixed: null, sequential: null, estimate: 5 });
  });

  it('shows sequential figures by default when the API sends them, fixed-horizon otherwise or on request', () => {
    const views = metricViews([block()], 0.95);
    expect(hasSequential(views)).toBe(true);
    expect(shownFigures(undefined, true)).toBe('sequential');
    expect(shownFigures('fixed', true)).toBe('fixed');
    expect(shownFigures('sequential', false)).toBe('fixed');
    const row = views[0]?.rows[1];
    expect(row && comparisonOf(row, 'sequential')).toMatchObject({
      lift: 0.45,
      ci: [-0.05, 0.95],
      p: 0.2,
      adjustedP: null,
      tuningParameter: 5000,
      verdict: { kind: 'neutral' },
    });
    const withoutSequential = block({
      variations: block().variations.map(({ sequential: _s, ...v }) => v),
    });
    expect(hasSequential(metricViews([withoutSequential], 0.95))).toBe(false);
  });

  it('describes a metric from its definition as the API states it, with the cap the API found', () => {
    expect(metricViews([block()], 0.95)[0]).toMatchObject({
      definition:
        'Mean “purchase” value per unit, counted for 36 h starting 1 h after exposure, capped at the 90th percentile (123.5)',
      test: "Welch's t-test",
      direction: 'increase',
    });
    const ratio = block({
      type: 'ratio',
      event: null,
      numerator: 'revenue',
      denominator: 'views',
      window: null,
      cap: null,
      test: 'gbstats_relative_t',
      direction: 'decrease',
      guardrail: true,
    });
    expect(metricViews([ratio], 0.95)[0]).toMatchObject({
      definition: 'revenue ÷ views, over all units',
      direction: 'decrease',
      guardrail: true,
      test: 't-test of the relative difference',
    });
  });

  it("shows a CUPED metric's adjusted comparisons by default, the unadjusted ones on request", () => {
    const [view] = metricViews([cupedBlock()], 0.95);
    if (view === undefined) throw new Error('one view');
    expect(view.cuped, 'the covariate as the block states it').toEqual({
      days: 0.1,
      covariate: '“purchase” events',
      note: 'y_u sums the metric over the unit’s events before its first exposure.',
    });
    expect(shownAdjustment(view, undefined)).toBe('cuped');
    expect(shownAdjustment(view, 'unadjusted')).toBe('unadjusted');
    const [control, treatment, other] = view.rows;
    if (control === undefined || treatment === undefined || other === undefined)
      throw new Error('three rows');
    expect(comparisonOf(control, 'fixed', 'cuped'), 'the control has no comparison').toBeNull();
    expect(comparisonOf(treatment, 'fixed', 'cuped')).toMatchObject({
      lift: 0.36,
      ci: [0.2, 0.52],
      p: 0.004,
      adjustedP: 0.008,
      verdict: { kind: 'better' },
    });
    expect(comparisonOf(treatment, 'sequential', 'cuped')).toMatchObject({
      lift: 0.36,
      ci: [0.01, 0.71],
      p: 0.04,
      adjustedP: null,
      tuningParameter: 5000,
      verdict: { kind: 'better' },
    });
    expect(
      comparisonOf(treatment, 'sequential', 'unadjusted'),
      "the unadjusted block's figures",
    ).toMatchObject({ lift: 0.45, ci: [-0.05, 0.95], p: 0.2 });
    expect(treatment.cuped?.varianceReduction).toBe(0.234);
    expect(other.cuped?.varianceReduction, 'negative as the API sends it').toBe(-0.012);
    expect(
      comparisonOf(other, 'sequential', 'cuped'),
      'no adjusted sequential figures: none shown',
    ).toBeNull();
    expect(CUPED_TEST).toBe('the CUPED-adjusted t-test of the relative difference');
  });

  it('never shows unadjusted figures under the CUPED label, and has no CUPED for other metrics', () => {
    const withoutRowFigures = cupedBlock();
    withoutRowFigures.variations = withoutRowFigures.variations.map((v) => ({ ...v, cuped: null }));
    const row = metricViews([withoutRowFigures], 0.95)[0]?.rows[1];
    expect(row && comparisonOf(row, 'fixed', 'cuped')).toBeNull();
    const [plain] = metricViews([block()], 0.95);
    expect(plain?.cuped).toBeNull();
    expect(plain && shownAdjustment(plain, 'cuped'), 'nothing to adjust').toBe('unadjusted');
    expect(plain?.rows[1]?.cuped).toBeUndefined();
  });

  it("reads one event's answer as a conversion view with its value figures beside", () => {
    const answer: EventResultsAnswer = {
      experiment: 'e',
      metric: 'purchase',
      control: 'control',
      computed_at: '2026-01-01T00:00:00.000Z',
      multiple_exposure_units: 0,
      srm: { p_value: 0.5, observed: {}, expected: {} },
      variations: [
        {
          variation: 'control',
          units: 10,
          conversions: 2,
          conversion_rate: 0.2,
          value_per_unit: 3,
          count_per_unit: 0.3,
          mean_value: 15,
          ...CONTROL_COMPARISONS,
        },
        {
          variation: 'b',
          units: 12,
          conversions: 6,
          conversion_rate: 0.5,
          value_per_unit: 4,
          count_per_unit: 0.6,
          mean_value: 8,
          lift: 1.5,
          lift_ci: [0.1, 2.9],
          p_value: 0.03,
          adjusted_p_value: 0.03,
          value_lift: 0.33,
          value_p_value: 0.4,
          count_p_value: 0.2,
        },
      ],
    };
    const view = eventView(answer, 0.95);
    expect(view.rows.map((r) => [r.variation, r.control, r.estimate])).toEqual([
      ['control', true, 0.2],
      ['b', false, 0.5],
    ]);
    expect(view.rows[1]?.event).toEqual({ valuePerUnit: 4, countPerUnit: 0.6, valueLift: 0.33, valueP: 0.4 });
    expect(view.rows[1]?.sequential, 'no sequential block in the answer').toBeNull();
  });
});
