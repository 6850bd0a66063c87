import { describe, expect, it } from 'vitest';
import type { EventResultsAnswer, MetricBlock } from '../../ui/src/api-types.ts';
import {
  comparisonOf,
  eventView,
  hasSequential,
  metricViews,
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
