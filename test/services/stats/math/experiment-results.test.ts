import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeResults,
  DEFAULT_CONFIDENCE,
} from '../../../../services/stats/src/math/experiment-results.ts';
import { proportionArm } from '../../../../services/stats/src/math/proportion-statistic.ts';
import { sequentialTTest } from '../../../../services/stats/src/math/sequential-t-test.ts';
import type { ExperimentResults, VariationStats } from '../../../../services/stats/src/math/types.ts';

/** Stats of an arm whose converters each have one event of `value` at weight 1. */
function arm(variation: string, units: number, conversions: number, value = 10): VariationStats {
  return {
    variation,
    units,
    conversions,
    sumValue: conversions * value,
    sumValueSq: conversions * value * value,
    sumCount: conversions,
    sumCountSq: conversions,
    sumWeight: conversions,
    sumWeightedValue: conversions * value,
  };
}

function ok(outcome: ReturnType<typeof computeResults>): ExperimentResults {
  if (!outcome.ok) throw new Error(`expected results, got ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

function row(results: ExperimentResults, variation: string) {
  const found = results.variations.find((v) => v.variation === variation);
  if (found === undefined) throw new Error(`no row for ${variation}`);
  return found;
}

describe('computeResults', () => {
  const twoArms = [arm('control', 1000, 100), arm('treatment', 1000, 120)];

  it('returns an unknown_control error value for a control that is not a variation', () => {
    const outcome = computeResults({ variations: twoArms, control: 'nope' });
    expect(outcome.ok, 'refused').toBe(false);
    expect(!outcome.ok && outcome.error.code, 'error code').toBe('unknown_control');
  });

  it('leaves every comparison field of the control null', () => {
    const control = row(ok(computeResults({ variations: twoArms, control: 'control' })), 'control');
    for (const field of [
      'lift',
      'lift_ci',
      'p_value',
      'adjusted_p_value',
      'value_lift',
      'value_p_value',
    ] as const) {
      expect(control[field], `control.${field}`).toBeNull();
    }
    expect(control.count_p_value, 'control.count_p_value').toBeNull();
    expect(control.sequential, 'control.sequential').toBeNull();
  });

  it('describes every variation: rate, means, variances and mean value', () => {
    const control = row(ok(computeResults({ variations: twoArms, control: 'control' })), 'control');
    expect(control.conversion_rate, 'rate').toBe(0.1);
    expect(control.value_per_unit, 'value per unit').toBe(1);
    // 100 units of 10 and 900 of 0: Σx² = 10000, (1000·10000 − 1000²)/(1000·999)
    expect(control.value_variance, 'value variance').toBeCloseTo(9000 / 999, 12);
    expect(control.mean_value, 'mean value').toBe(10);
  });

  it('compares a treatment with the control', () => {
    const treatment = row(ok(computeResults({ variations: twoArms, control: 'control' })), 'treatment');
    expect(treatment.lift, 'lift').toBeCloseTo(0.2, 14);
    expect(treatment.p_value, 'z-test p').toBeCloseTo(0.152918, 6);
    expect(treatment.adjusted_p_value, 'one treatment: Holm leaves p as is').toBe(treatment.p_value);
    expect(treatment.value_lift, 'value lift').toBeCloseTo(0.2, 14);
  });

  it("gives the conversion rate's always-valid test on gbstats' ProportionStatistic, at the experiment's τ", () => {
    const t = row(
      ok(computeResults({ variations: twoArms, control: 'control', sequentialTuningParameter: 800 })),
      'treatment',
    );
    const t0 = proportionArm(arm('treatment', 1000, 120));
    const c0 = proportionArm(arm('control', 1000, 100));
    const expected = t0 === null || c0 === null ? null : sequentialTTest(t0, c0, 0.95, 800);
    expect(t.sequential, 'block').toEqual({
      lift_ci: expected === null ? null : [expected.ci[0], expected.ci[1]],
      p_value: expected?.pValue ?? null,
      tuning_parameter: 800,
    });
    expect(
      t.sequential?.p_value,
      'always valid: no smaller than the fixed-horizon z-test here',
    ).toBeGreaterThan(t.p_value as number);
    const byDefault = row(ok(computeResults({ variations: twoArms, control: 'control' })), 'treatment');
    expect(byDefault.sequential?.tuning_parameter, 'default').toBe(5000);
  });

  it('keeps the sequential block, with null figures, where its test is undefined', () => {
    const t = row(
      ok(computeResults({ variations: [arm('c', 500, 0), arm('t', 500, 20)], control: 'c' })),
      't',
    );
    expect(t.sequential, 'control rate 0').toEqual({ lift_ci: null, p_value: null, tuning_parameter: 5000 });
  });

  it('refuses a tuning parameter that is not a finite number > 0 as a value', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const outcome = computeResults({
        variations: twoArms,
        control: 'control',
        sequentialTuningParameter: bad,
      });
      expect(!outcome.ok && outcome.error.code, String(bad)).toBe('invalid_tuning_parameter');
    }
  });

  it('uses 95% confidence when none is given', () => {
    const implicit = ok(computeResults({ variations: twoArms, control: 'control' }));
    const explicit = ok(computeResults({ variations: twoArms, control: 'control', confidence: 0.95 }));
    expect(implicit.confidence, 'reported confidence').toBe(DEFAULT_CONFIDENCE);
    expect(row(implicit, 'treatment').lift_ci, 'same interval').toEqual(row(explicit, 'treatment').lift_ci);
  });

  it('applies Holm across the treatments that have a p-value only', () => {
    const results = ok(
      computeResults({
        variations: [arm('c', 1000, 100), arm('t1', 1000, 130), arm('t2', 1000, 125), arm('empty', 0, 0)],
        control: 'c',
      }),
    );
    const [t1, t2] = [row(results, 't1'), row(results, 't2')];
    const p1 = t1.p_value as number;
    const p2 = t2.p_value as number;
    expect(p1, 't1 is the stronger effect').toBeLessThan(p2);
    expect(t1.adjusted_p_value, 'smallest of m = 2 doubled').toBe(2 * p1);
    expect(t2.adjusted_p_value, 'second keeps its p unless below the first').toBe(Math.max(2 * p1, p2));
    expect(row(results, 'empty').adjusted_p_value, 'no units: no test, no adjustment').toBeNull();
  });

  it('makes every figure that needs a unit null for a variation with no units', () => {
    const empty = row(
      ok(computeResults({ variations: [...twoArms, arm('empty', 0, 0)], control: 'control' })),
      'empty',
    );
    expect(empty, 'empty arm').toMatchObject({
      conversion_rate: null,
      value_per_unit: null,
      value_variance: null,
      lift: null,
      lift_ci: null,
      p_value: null,
      value_p_value: null,
    });
  });

  it('makes lift, lift_ci and value_lift null when the control never converted', () => {
    const t = row(
      ok(computeResults({ variations: [arm('c', 500, 0), arm('t', 500, 20)], control: 'c' })),
      't',
    );
    expect([t.lift, t.lift_ci, t.value_lift], 'undefined ratios').toEqual([null, null, null]);
    expect(t.p_value, 'the z-test is still defined').not.toBeNull();
  });

  it('makes the value and count p-values null when both arms have zero variance', () => {
    const t = row(
      ok(computeResults({ variations: [arm('c', 50, 50, 5), arm('t', 50, 50, 7)], control: 'c' })),
      't',
    );
    expect(t.value_p_value, 'value').toBeNull();
    expect(t.count_p_value, 'count').toBeNull();
  });

  it('reports SRM over every variation with the expected split', () => {
    const results = ok(
      computeResults({
        variations: [arm('a', 9000, 900), arm('b', 1000, 100)],
        control: 'a',
        expectedWeights: { a: 0.9, b: 0.1 },
      }),
    );
    expect(results.srm.observed, 'observed').toEqual({ a: 9000, b: 1000 });
    expect(results.srm.expected.a, 'expected a').toBeCloseTo(9000, 9);
    expect(results.srm.p_value, 'matching split').toBeCloseTo(1, 12);
  });

  it('counts a weighted variation that has no row as 0 observed units', () => {
    const results = ok(
      computeResults({
        variations: [arm('a', 5000, 500), arm('b', 5000, 500)],
        control: 'a',
        expectedWeights: { a: 1, b: 1, c: 1 },
      }),
    );
    expect(results.srm.observed, 'observed').toEqual({ a: 5000, b: 5000, c: 0 });
    expect(results.srm.p_value as number, 'a missing arm is a severe mismatch').toBeLessThan(1e-100);
    expect(results.variations.length, 'no result row is invented for c').toBe(2);
  });

  it('never returns NaN or Infinity, whatever the (valid) counts', () => {
    const armArb = fc
      .record({
        units: fc.integer({ min: 0, max: 1e8 }),
        share: fc.double({ min: 0, max: 1, noNaN: true }),
        value: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      })
      .map(({ units, share, value }) => ({ units, conversions: Math.floor(units * share), value }));
    fc.assert(
      fc.property(
        fc.array(armArb, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(0.9, 0.95, 0.99),
        (arms, c) => {
          const variations = arms.map((a, i) => arm(`v${i}`, a.units, a.conversions, a.value));
          const results = ok(computeResults({ variations, control: 'v0', confidence: c }));
          const numbers = JSON.stringify(results, (_key, v: unknown) => {
            if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
            return v;
          });
          expect(numbers.length, 'serialised').toBeGreaterThan(0);
        },
      ),
    );
  });
});
