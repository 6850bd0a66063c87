import { describe, expect, it } from 'vitest';
import {
  isFullDate,
  parseDateTime,
  readTimestamp,
} from '../../../../services/gateway/src/validation/timestamp.ts';

describe('parseDateTime', () => {
  it.each([
    ['2026-05-21T10:30:00Z', Date.UTC(2026, 4, 21, 10, 30)],
    ['2026-05-21T10:30:00.250+01:00', Date.UTC(2026, 4, 21, 9, 30, 0, 250)],
    ['2024-02-29T00:00:00-00:30', Date.UTC(2024, 1, 29, 0, 30)],
    ['1970-01-01T00:00:00Z', 0],
  ])('parses %s', (text, expected) => {
    expect(parseDateTime(text)).toBe(expected);
  });

  it('does not map years 0-99 to 1900-1999 (as Date.UTC would)', () => {
    expect(parseDateTime('0050-01-01T00:00:00Z')).toBe(-60589296000000);
  });

  it.each([
    '2026-05-21T10:30Z',
    '2026-05-21 10:30:00Z',
    '2026-5-21T10:30:00Z',
    '2026-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-05-21T10:60:00Z',
    '2026-05-21T10:30:00+24:00',
    '2026-05-21T10:30:00+0200',
    '2026-05-21T10:30:00.Z',
    ' 2026-05-21T10:30:00Z',
  ])('refuses %s', (text) => {
    expect(parseDateTime(text), text).toBeNaN();
  });
});

describe('isFullDate', () => {
  it.each([
    ['2026-05-21', true],
    ['2024-02-29', true],
    ['2100-02-29', false],
    ['2026-00-10', false],
    ['2026-05-21T00:00:00Z', false],
  ])('%s → %s', (text, expected) => {
    expect(isFullDate(text)).toBe(expected);
  });
});

describe('readTimestamp', () => {
  const window = { receivedAt: 1_000_000_000_000, maxFutureMs: 1000, backfillMs: 5000 };

  it('returns receivedAt for an absent timestamp', () => {
    expect(readTimestamp(undefined, window)).toBe(1_000_000_000_000);
  });

  it('accepts both inclusive edges of the window', () => {
    expect([readTimestamp(1_000_000_001_000, window), readTimestamp(999_999_995_000, window)]).toEqual([
      1_000_000_001_000, 999_999_995_000,
    ]);
  });

  it('renders an out-of-range date in the message instead of throwing', () => {
    expect(readTimestamp(Number.MAX_VALUE, window)).toMatchObject({ code: 'timestamp_in_future' });
  });
});
