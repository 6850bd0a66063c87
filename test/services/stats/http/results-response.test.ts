import { describe, expect, it } from 'vitest';
import { expectedWeightsFor, toResultsBody } from '../../../../services/stats/src/http/results-response.ts';
import { computeResults } from '../../../../services/stats/src/math/experiment-results.ts';
import type { VariationStats } from '../../../../services/stats/src/math/types.ts';

function stats(variation: string, units: number, conversions: number): VariationStats {
  return {
    variation,
    units,
    conversions,
    sumValue: conversions * 10,
    sumValueSq: conversions * 100,
    sumCount: conversions,
    sumCountSq: conversions,
    sumWeight: conversions,
    sumWeightedValue: conversions * 10,
  };
}

function results(control: string) {
  const outcome = computeResults({
    variations: [stats('a', 100, 10), stats('b', 100, 30), stats('control', 100, 20)],
    control,
  });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.value;
}

describe('toResultsBody', () => {
  const body = toResultsBody({
    experiment: 'checkout',
    metric: 'purchase',
    computedAt: new Date(Date.UTC(2026, 0, 1)),
    multipleExposureUnits: 4,
    lastEventAt: Date.UTC(2025, 11, 31, 23, 59, 58, 5),
    results: results('control'),
  });

  it('has exactly the fields of the API, with the computation time in ISO-8601', () => {
    expect(Object.keys(body)).toEqual([
      'experiment',
      'metric',
      'control',
      'computed_at',
      'multiple_exposure_units',
      'last_event_at',
      'srm',
      'inference',
      'variations',
    ]);
    expect(body.computed_at).toBe('2026-01-01T00:00:00.000Z');
    expect(body.last_event_at, 'freshness in ISO-8601').toBe('2025-12-31T23:59:58.005Z');
    expect(body.multiple_exposure_units).toBe(4);
  });

  it('lists the control first, then the treatments in their given order', () => {
    expect(body.variations.map((v) => v.variation)).toEqual(['control', 'a', 'b']);
  });

  it('carries nulls in every comparison field of the control', () => {
    const control = body.variations[0];
    for (const field of [
      'lift',
      'lift_ci',
      'p_value',
      'adjusted_p_value',
      'value_lift',
      'value_p_value',
      'count_p_value',
      'sequential',
    ] as const) {
      expect(control?.[field], field).toBeNull();
    }
  });

  it('says which figures are fixed-horizon and that the sequential block is always valid', () => {
    expect(body.inference, 'names the fixed-horizon fields').toMatch(
      /^lift_ci, p_value, adjusted_p_value, value_p_value and count_p_value are fixed-horizon/,
    );
    expect(body.inference, 'names the always-valid block').toContain('sequential is always valid');
  });

  it("copies a treatment's sequential block: the conversion rate's test at τ 5000 by default", () => {
    const b = body.variations.find((v) => v.variation === 'b');
    const source = results('control').variations.find((v) => v.variation === 'b');
    expect(b?.sequential, 'same block').toEqual(source?.sequential);
    expect(b?.sequential?.tuning_parameter, 'default tuning parameter').toBe(5000);
    expect(b?.sequential?.p_value, 'defined: 30% vs 20% of 100 units').not.toBeNull();
  });

  it('copies the comparison of a treatment unchanged, lift_ci as a two-element array', () => {
    const b = body.variations.find((v) => v.variation === 'b');
    const source = results('control').variations.find((v) => v.variation === 'b');
    expect(b?.lift, 'lift 30% / 20% − 1').toBeCloseTo(0.5, 12);
    expect(b?.lift_ci, 'same bounds').toEqual(source?.lift_ci === null ? null : [...(source?.lift_ci ?? [])]);
    expect(Array.isArray(b?.lift_ci), 'a plain array, serialisable by the schema').toBe(true);
    expect(b?.adjusted_p_value, 'Holm adjusted').toBe(source?.adjusted_p_value);
  });

  it('reports the SRM check with observed and expected units per variation', () => {
    expect(body.srm.observed).toEqual({ a: 100, b: 100, control: 100 });
    expect(body.srm.expected).toEqual({ a: 100, b: 100, control: 100 });
    expect(body.srm.p_value, 'a perfect split').toBeCloseTo(1, 12);
  });
});

describe('expectedWeightsFor', () => {
  it("returns the experiment's configured split", () => {
    expect(expectedWeightsFor({ checkout: { control: 9, treatment: 1 } }, 'checkout')).toEqual({
      control: 9,
      treatment: 1,
    });
  });

  it('returns undefined (equal split) for an experiment without one, even a prototype key', () => {
    expect(expectedWeightsFor({ checkout: { control: 1 } }, 'pricing')).toBeUndefined();
    expect(expectedWeightsFor({}, 'constructor'), 'no prototype lookup').toBeUndefined();
  });
});
