import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatInterval,
  formatLift,
  formatNumber,
  formatPValue,
  formatRate,
  formatShare,
  formatTime,
  significance,
} from '../../../cli/src/figures.ts';

describe('figures as the terminal shows them', () => {
  it('reads null, the API\'s "undefined", as a dash everywhere', () => {
    for (const format of [formatCount, formatNumber, formatRate, formatLift, formatPValue, formatShare])
      expect(format(null), format.name).toBe('—');
    expect(formatInterval(null)).toBe('—');
    expect(formatTime(null)).toBe('—');
  });

  it('groups counts and keeps four significant digits of means below 1,000', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatNumber(25)).toBe('25');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(12345.67)).toBe('12,345.7');
  });

  it('shows rates in percent with two decimals and lifts signed with one', () => {
    expect(formatRate(0.5)).toBe('50.00%');
    expect(formatRate(0.01234)).toBe('1.23%');
    expect(formatLift(0.386)).toBe('+38.6%');
    expect(formatLift(-0.111)).toBe('-11.1%');
    expect(formatLift(0)).toBe('+0.0%');
    expect(formatLift(-0.00001), 'a lift that rounds to zero reads as zero').toBe('+0.0%');
    expect(formatInterval([-1.9599639845400538, 1.9599639845400538])).toBe('[-196.0%, +196.0%]');
  });

  it('shows a variance reduction as a share with one decimal, unsigned unless negative', () => {
    expect(formatShare(0.234)).toBe('23.4%');
    expect(formatShare(-0.012)).toBe('-1.2%');
    expect(formatShare(-0.0001), 'rounds to zero: no sign').toBe('0.0%');
  });

  it('shows p-values with four decimals, and tiny ones as a bound', () => {
    expect(formatPValue(0.6574813428347563)).toBe('0.6575');
    expect(formatPValue(1)).toBe('1.0000');
    expect(formatPValue(0.00001)).toBe('<0.0001');
  });

  it('shows API times in UTC to the second', () => {
    expect(formatTime('2026-12-05T17:28:28.989Z')).toBe('2026-12-05 17:28:28Z');
    expect(formatTime('not a time'), 'anything else as it came').toBe('not a time');
  });
});

describe('significance in words', () => {
  const base = { isControl: false, confidence: 0.95, direction: undefined } as const;

  it('is "not significant" at p ≥ 1 − confidence, and says so for the control and missing figures', () => {
    expect(significance({ ...base, lift: 0.2, pValue: 0.05 }).words).toBe('not significant');
    expect(significance({ ...base, lift: 0.2, pValue: 0.04, confidence: 0.99 }).words).toBe(
      'not significant',
    );
    expect(significance({ ...base, isControl: true, lift: null, pValue: null }).words).toBe('control');
    expect(significance({ ...base, lift: null, pValue: null }).words).toBe('not enough data');
  });

  it('names the way a significant lift went, and whether that is good for the metric', () => {
    expect(significance({ ...base, lift: 0.2, pValue: 0.01 })).toEqual({
      verdict: 'changed',
      words: 'significant increase',
    });
    expect(significance({ ...base, lift: 0.2, pValue: 0.01, direction: 'increase' }).words).toBe(
      'significant increase (better)',
    );
    expect(significance({ ...base, lift: 0.2, pValue: 0.01, direction: 'decrease' })).toEqual({
      verdict: 'worse',
      words: 'significant increase (worse)',
    });
    expect(significance({ ...base, lift: -0.2, pValue: 0.01, direction: 'decrease' }).verdict).toBe('better');
  });
});
