/**
 * The times a results time series is computed at (docs/semantics.md, "Results over time"): as_of at each
 * UTC hour or day boundary from the experiment's first exposure to now, plus now. Pure.
 */

/** Most points one time series may have; the caller refuses a request above it (HTTP 400). */
export const MAX_TIMESERIES_POINTS = 1000;

export const TIMESERIES_INTERVALS = ['hour', 'day'] as const;
export type TimeseriesInterval = (typeof TIMESERIES_INTERVALS)[number];

const INTERVAL_MS: Record<TimeseriesInterval, number> = { hour: 3_600_000, day: 86_400_000 };

export type TimeseriesBoundaries =
  | { kind: 'ok'; boundaries: number[] }
  /** `points` is how many the series would have had: more than MAX_TIMESERIES_POINTS. */
  | { kind: 'too_many_points'; points: number };

/**
 * Each UTC boundary of `interval` strictly after `firstExposureMs` and at or before `nowMs`, then `nowMs`
 * itself (once, when it is not already a boundary); ascending unix ms. as_of(T) includes timestamps ≤ T,
 * so a boundary equal to the first exposure would repeat nothing new and is left out. Unix time has no leap
 * seconds, so UTC days and hours are plain multiples of their length since the epoch.
 * With `nowMs` at or before the first exposure the series is `[nowMs]`.
 * The count is found before building anything, so an absurd range costs nothing.
 */
export function timeseriesBoundaries(
  firstExposureMs: number,
  nowMs: number,
  interval: TimeseriesInterval,
): TimeseriesBoundaries {
  if (!Number.isSafeInteger(firstExposureMs) || !Number.isSafeInteger(nowMs)) {
    throw new RangeError(`boundaries need integer unix ms, got ${firstExposureMs} and ${nowMs}`);
  }
  const step = INTERVAL_MS[interval];
  const first = (Math.floor(firstExposureMs / step) + 1) * step;
  const last = Math.floor(nowMs / step) * step;
  const regular = last >= first ? (last - first) / step + 1 : 0;
  const nowIsBoundary = regular > 0 && last === nowMs;
  const points = regular + (nowIsBoundary ? 0 : 1);
  if (points > MAX_TIMESERIES_POINTS) return { kind: 'too_many_points', points };
  const boundaries: number[] = [];
  for (let i = 0; i < regular; i++) boundaries.push(first + i * step);
  if (!nowIsBoundary) boundaries.push(nowMs);
  return { kind: 'ok', boundaries };
}
