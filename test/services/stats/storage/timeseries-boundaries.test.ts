import { describe, expect, it } from 'vitest';
import {
  MAX_TIMESERIES_POINTS,
  timeseriesBoundaries,
} from '../../../../services/stats/src/storage/timeseries-boundaries.ts';

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

describe('timeseriesBoundaries', () => {
  it('gives each UTC day boundary after the first exposure, then now', () => {
    expect(timeseriesBoundaries(at('2026-01-05T07:30:00Z'), at('2026-01-08T12:00:00.123Z'), 'day')).toEqual({
      kind: 'ok',
      boundaries: [
        at('2026-01-06T00:00:00Z'),
        at('2026-01-07T00:00:00Z'),
        at('2026-01-08T00:00:00Z'),
        at('2026-01-08T12:00:00.123Z'),
      ],
    });
  });

  it('leaves out a boundary equal to the first exposure', () => {
    expect(timeseriesBoundaries(at('2026-01-05T10:00:00Z'), at('2026-01-05T12:30:00Z'), 'hour')).toEqual({
      kind: 'ok',
      boundaries: [at('2026-01-05T11:00:00Z'), at('2026-01-05T12:00:00Z'), at('2026-01-05T12:30:00Z')],
    });
  });

  it('does not repeat now when it is a boundary', () => {
    expect(timeseriesBoundaries(at('2026-01-05T10:59:59.999Z'), at('2026-01-05T12:00:00Z'), 'hour')).toEqual({
      kind: 'ok',
      boundaries: [at('2026-01-05T11:00:00Z'), at('2026-01-05T12:00:00Z')],
    });
  });

  it('is now alone before the first boundary, or when now is not after the first exposure', () => {
    const first = at('2026-01-05T10:15:00Z');
    expect(timeseriesBoundaries(first, first + 60_000, 'hour')).toEqual({
      kind: 'ok',
      boundaries: [first + 60_000],
    });
    expect(timeseriesBoundaries(first, first - 1, 'day')).toEqual({ kind: 'ok', boundaries: [first - 1] });
  });

  it(`allows ${MAX_TIMESERIES_POINTS} points and refuses one more, with the count`, () => {
    const limit = timeseriesBoundaries(0, MAX_TIMESERIES_POINTS * HOUR, 'hour');
    expect(limit.kind === 'ok' && limit.boundaries.length, 'points at the limit').toBe(MAX_TIMESERIES_POINTS);
    const offBoundary = timeseriesBoundaries(0, (MAX_TIMESERIES_POINTS - 1) * HOUR + 1, 'hour');
    expect(offBoundary.kind === 'ok' && offBoundary.boundaries.length, 'now counts as a point').toBe(
      MAX_TIMESERIES_POINTS,
    );
    expect(timeseriesBoundaries(0, (MAX_TIMESERIES_POINTS + 1) * HOUR, 'hour')).toEqual({
      kind: 'too_many_points',
      points: MAX_TIMESERIES_POINTS + 1,
    });
    expect(timeseriesBoundaries(0, 10 * 365 * 24 * HOUR, 'hour')).toEqual({
      kind: 'too_many_points',
      points: 10 * 365 * 24,
    });
  });

  it('refuses times that are not integer unix ms', () => {
    expect(() => timeseriesBoundaries(Number.NaN, 0, 'day')).toThrow(RangeError);
    expect(() => timeseriesBoundaries(0, 1.5, 'hour')).toThrow(RangeError);
  });
});
