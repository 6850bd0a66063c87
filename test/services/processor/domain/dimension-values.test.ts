import { describe, expect, it } from 'vitest';
import { dimensionValuesOf } from '../../../../services/processor/src/domain/dimension-values.ts';

describe('dimensionValuesOf', () => {
  it('takes each declared dimension from properties, else from context, else leaves it out', () => {
    expect(
      dimensionValuesOf(
        ['country', 'plan', 'device'],
        { country: 'DE', other: 'x' },
        { country: 'FR', plan: 'pro', locale: 'de-DE' },
      ),
    ).toEqual({ country: 'DE', plan: 'pro' });
  });

  it.each<[string, string | number | boolean, string]>([
    ['a string as is', 'Berlin, DE', 'Berlin, DE'],
    ['an empty string as is', '', ''],
    ['an integer as String(n)', 3, '3'],
    ['a fraction as String(n)', 2.5, '2.5'],
    ['a large number in exponent form, as String(n)', 1e21, '1e+21'],
    ['-0 as "0", as String(n)', -0, '0'],
    ['true as "true"', true, 'true'],
    ['false as "false"', false, 'false'],
  ])('carries %s', (_name, value, expected) => {
    expect(dimensionValuesOf(['d'], { d: value }, {})).toEqual({ d: expected });
  });

  it('reads own keys only: a dimension named like an Object.prototype member is absent when not sent', () => {
    expect(dimensionValuesOf(['constructor'], {}, {})).toEqual({});
    expect(dimensionValuesOf(['constructor'], {}, { constructor: 'web' })).toEqual({ constructor: 'web' });
  });

  it('writes keys in sorted order, whatever the declared order', () => {
    expect(Object.keys(dimensionValuesOf(['plan', 'country'], { country: 'DE', plan: 'pro' }, {}))).toEqual([
      'country',
      'plan',
    ]);
  });
});
