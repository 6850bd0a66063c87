import { describe, expect, it } from 'vitest';
import { computeResults } from '../../../../services/stats/src/math/experiment-results.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

/** Fields compared with the absolute fallback (they can be 0 by cancellation) or relative only. */
const DESCRIPTIVE = [
  'conversion_rate',
  'value_per_unit',
  'value_variance',
  'count_per_unit',
  'count_variance',
  'mean_value',
  'lift',
  'value_lift',
] as const;
const P_VALUES = ['p_value', 'adjusted_p_value', 'value_p_value', 'count_p_value'] as const;

describe('computeResults against scipy/statsmodels fixtures', () => {
  it('has a meaningful number of fixture experiments', () => {
    expect(fixtures.experiments.length, 'fixture experiments').toBeGreaterThanOrEqual(40);
  });

  for (const fixture of fixtures.experiments) {
    it(`agrees on "${fixture.name}"`, () => {
      const outcome = computeResults({
        variations: fixture.variations,
        control: fixture.control,
        confidence: fixture.confidence,
        ...(fixture.expected_weights === null ? {} : { expectedWeights: fixture.expected_weights }),
      });
      if (!outcome.ok) throw new Error(`${fixture.name}: unexpected error ${outcome.error.code}`);
      const { variations, srm } = outcome.value;
      expect(
        variations.map((v) => v.variation),
        `${fixture.name}: variation order`,
      ).toEqual(fixture.expected.variations.map((v) => v.variation));

      fixture.expected.variations.forEach((expected, i) => {
        const actual = variations[i];
        if (actual === undefined) throw new Error(`${fixture.name}: missing ${expected.variation}`);
        const label = `${fixture.name} / ${expected.variation}`;
        expect(actual.units, `${label}.units`).toBe(expected.units);
        expect(actual.conversions, `${label}.conversions`).toBe(expected.conversions);
        for (const field of DESCRIPTIVE) expectAgrees(actual[field], expected[field], `${label}.${field}`);
        for (const field of P_VALUES)
          expectAgrees(actual[field], expected[field], `${label}.${field}`, false);
        if (expected.lift_ci === null) {
          expect(actual.lift_ci, `${label}.lift_ci`).toBeNull();
        } else {
          expect(actual.lift_ci, `${label}.lift_ci`).not.toBeNull();
          expectAgrees(actual.lift_ci?.[0] ?? null, expected.lift_ci[0], `${label}.lift_ci[0]`);
          expectAgrees(actual.lift_ci?.[1] ?? null, expected.lift_ci[1], `${label}.lift_ci[1]`);
        }
      });

      expectAgrees(srm.p_value, fixture.expected.srm.p_value, `${fixture.name} / srm.p_value`, false);
      expect(srm.observed, `${fixture.name} / srm.observed`).toEqual(fixture.expected.srm.observed);
      for (const [name, expected] of Object.entries(fixture.expected.srm.expected)) {
        expectAgrees(srm.expected[name] ?? null, expected, `${fixture.name} / srm.expected.${name}`);
      }
    });
  }
});
