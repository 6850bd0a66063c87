import { describe, expect, it } from 'vitest';
import { validateResultsInput } from '../../../../services/stats/src/math/validate-results-input.ts';
import type { VariationStats } from '../../../../services/stats/src/math/types.ts';

function arm(variation: string, overrides: Partial<VariationStats> = {}): VariationStats {
  return {
    variation,
    units: 100,
    conversions: 10,
    sumValue: 50,
    sumValueSq: 400,
    sumCount: 12,
    sumCountSq: 16,
    sumWeight: 12,
    sumWeightedValue: 50,
    ...overrides,
  };
}

describe('validateResultsInput', () => {
  it('accepts a well-formed request', () => {
    expect(validateResultsInput({ variations: [arm('a'), arm('b')], control: 'a' }), 'no error').toBeNull();
  });

  it('rejects a control that is not a variation', () => {
    expect(validateResultsInput({ variations: [arm('a')], control: 'b' })?.code, 'code').toBe(
      'unknown_control',
    );
  });

  it('rejects a variation listed twice', () => {
    expect(validateResultsInput({ variations: [arm('a'), arm('a')], control: 'a' })?.code, 'code').toBe(
      'duplicate_variation',
    );
  });

  it('rejects a confidence outside (0, 1)', () => {
    for (const confidence of [0, 1, 95, Number.NaN]) {
      const error = validateResultsInput({ variations: [arm('a')], control: 'a', confidence });
      expect(error?.code, `confidence ${confidence}`).toBe('invalid_confidence');
    }
  });

  it('rejects impossible counts and non-finite sums', () => {
    const bad: Partial<VariationStats>[] = [
      { units: -1 },
      { units: 2.5 },
      { conversions: 101 },
      { conversions: -1 },
      { sumValue: Number.NaN },
      { sumValueSq: Number.POSITIVE_INFINITY },
      { sumCountSq: -1 },
      { sumWeight: -1 },
    ];
    for (const overrides of bad) {
      const error = validateResultsInput({ variations: [arm('a', overrides)], control: 'a' });
      expect(error?.code, JSON.stringify(overrides)).toBe('invalid_variation_stats');
    }
  });

  it('accepts negative value sums (refunds)', () => {
    const input = { variations: [arm('a', { sumValue: -20, sumWeightedValue: -20 })], control: 'a' };
    expect(validateResultsInput(input), 'negative values are data').toBeNull();
  });

  it('rejects expected weights that miss a variation or are not positive', () => {
    const variations = [arm('a'), arm('b')];
    expect(
      validateResultsInput({ variations, control: 'a', expectedWeights: { a: 1 } })?.code,
      'missing b',
    ).toBe('invalid_expected_weights');
    expect(
      validateResultsInput({ variations, control: 'a', expectedWeights: { a: 1, b: 0 } })?.code,
      'zero weight',
    ).toBe('invalid_expected_weights');
  });
});
