import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatAgo,
  formatConfidence,
  formatCount,
  formatDays,
  formatEstimate,
  formatExpected,
  formatInterval,
  formatLift,
  formatPValue,
  formatRate,
  formatShare,
  formatValue,
  MISSING,
} from '../../ui/src/format.ts';

describe('results page number formats', () => {
  it('writes every undefined figure (null in the API) as an em dash', () => {
    for (const format of [
      formatCount,
      formatExpected,
      formatRate,
      formatValue,
      formatLift,
      formatPValue,
      formatShare,
    ]) {
      expect(format(null), format.name).toBe(MISSING);
    }
    expect(formatInterval(null)).toBe(MISSING);
  });

  it('groups counts and keeps one decimal of expected units', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatExpected(1000.25)).toBe('1,000.3');
  });

  it('writes rates as percentages with two decimals and values with four significant digits', () => {
    expect(formatRate(0.123456)).toBe('12.35%');
    expect(formatValue(1234.5678)).toBe('1,235');
    expect(formatValue(0.00456789)).toBe('0.004568');
    expect(formatValue(-2.5)).toBe('−2.5');
    expect(formatEstimate('conversion', 0.5)).toBe('50.00%');
    expect(formatEstimate('mean', 0.5)).toBe('0.5');
  });

  it('signs lifts with a true minus, one decimal from 10% and two below, and no sign on zero', () => {
    expect(formatLift(0.123456)).toBe('+12.3%');
    expect(formatLift(0.0321)).toBe('+3.21%');
    expect(formatLift(-0.0052)).toBe('−0.52%');
    expect(formatLift(0)).toBe('0.00%');
    expect(formatLift(-0.00001)).toBe('0.00%');
    expect(formatInterval([-0.021, 0.25])).toBe('−2.10% to +25.0%');
  });

  it('writes a variance reduction as a share with one decimal, a true minus when the API sends < 0', () => {
    expect(formatShare(0.234)).toBe('23.4%');
    expect(formatShare(0.04)).toBe('4.0%');
    expect(formatShare(-0.0123)).toBe('−1.2%');
    expect(formatShare(-0.0001), 'rounds to zero: no sign').toBe('0.0%');
    expect(formatShare(0)).toBe('0.0%');
  });

  it("writes a CUPED lookback in the catalogue's days, fractions included", () => {
    expect(formatDays(14)).toBe('14 days');
    expect(formatDays(1)).toBe('1 day');
    expect(formatDays(0.1)).toBe('0.1 days');
  });

  it('writes p-values with three or four decimals and a floor of < 0.0001', () => {
    expect(formatPValue(0.54)).toBe('0.540');
    expect(formatPValue(0.0321)).toBe('0.032');
    expect(formatPValue(0.00123)).toBe('0.0012');
    expect(formatPValue(0.00001)).toBe('< 0.0001');
    expect(formatConfidence(0.95)).toBe('95%');
    expect(formatConfidence(0.999)).toBe('99.9%');
  });

  it('says coarsely how long ago a time was', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(formatAgo('2026-01-02T11:59:30Z', now)).toBe('just now');
    expect(formatAgo('2026-01-02T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2026-01-02T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-01-01T12:00:00Z', now)).toBe('1 day ago');
    expect(formatAgo(null, now)).toBe(MISSING);
  });

  it('says to the second how old the newest event is, whole seconds down', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(formatAge('2026-01-02T11:59:56.000Z', now)).toBe('4 s ago');
    expect(formatAge('2026-01-02T11:59:55.500Z', now), 'not rounded up').toBe('4 s ago');
    expect(formatAge('2026-01-02T11:59:00Z', now)).toBe('1 min ago');
    expect(formatAge('2026-01-02T10:30:00Z', now)).toBe('1 h ago');
    expect(formatAge('2025-12-30T12:00:00Z', now)).toBe('3 days ago');
    expect(formatAge('2026-01-02T11:59:59.500Z', now)).toBe('just now');
    expect(formatAge(null, now)).toBe(MISSING);
  });

  it('never shows a negative age when a producer clock runs ahead', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(formatAge('2026-01-02T12:00:00.001Z', now)).toBe('just now');
    expect(formatAge('2026-01-02T12:04:59Z', now)).toBe('just now');
    expect(formatAge('2027-01-02T12:00:00Z', now)).toBe('just now');
  });
});
