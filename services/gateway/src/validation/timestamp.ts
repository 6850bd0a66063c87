/**
 * Event time: unix milliseconds (a JSON number) or an ISO-8601 date-time string, normalised to
 * integer unix ms.
 *
 * Accepted strings are the RFC 3339 profile of ISO-8601: 'YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)'
 * ('t'/'z' lower case allowed). A time zone is required because a zone-less time is ambiguous;
 * fractions beyond milliseconds are truncated; calendar dates are checked (no Feb 30) and leap
 * seconds (:60) are refused. Numeric strings ("1716286200000") are refused: send numbers as numbers.
 * Fractional numbers of milliseconds are floored (sub-millisecond precision is meaningless here).
 */
import { reject } from './errors.ts';
import type { Rejection } from './errors.ts';
import { describeValue, jsonTypeOf } from './json-path.ts';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

// Below this a number of ms is in January 1970 but a number of seconds is in 2286: a hint for messages.
const PROBABLY_SECONDS_BELOW = 1e11;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Parses an RFC 3339 date-time to unix ms; NaN when the text is not one (or names an impossible
 * date or time). Years before 1970 give negative numbers.
 */
export function parseDateTime(text: string): number {
  const m = RFC3339.exec(text);
  if (m === null) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 23 || offsetMinute > 59) return Number.NaN;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offsetMinutes * 60_000;
}

/** True when `text` is an RFC 3339 full-date 'YYYY-MM-DD' naming a real calendar day. */
export function isFullDate(text: string): boolean {
  const m = FULL_DATE.exec(text);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

// Date cannot render beyond +-8.64e15 ms (toISOString throws); messages fall back to the raw number.
const MAX_DATE_MS = 8.64e15;

function formatMs(ms: number): string {
  return ms <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms`;
}

function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['days', 86_400_000],
    ['hours', 3_600_000],
    ['minutes', 60_000],
    ['seconds', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

/** The window an event time must fall in, relative to when the gateway received it. */
export interface TimeWindow {
  /** Unix ms. */
  readonly receivedAt: number;
  /** How far after receivedAt an event may be, in ms (clock skew allowance). */
  readonly maxFutureMs: number;
  /** How far before receivedAt an event may be, in ms (backfill window). */
  readonly backfillMs: number;
}

/**
 * Reads the `timestamp` field: absent or null means `receivedAt`. Returns integer unix ms or the
 * rejection. Both window edges are inclusive.
 */
export function readTimestamp(value: unknown, window: TimeWindow): number | Rejection {
  let ms: number;
  if (value === undefined || value === null) return window.receivedAt;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      return reject(
        'invalid_timestamp',
        'timestamp',
        `timestamp must be non-negative unix milliseconds, got ${describeValue(value)}`,
      );
    }
    ms = Math.floor(value);
  } else if (typeof value === 'string') {
    ms = parseDateTime(value);
    if (Number.isNaN(ms)) {
      return reject(
        'invalid_timestamp',
        'timestamp',
        `timestamp string must be an ISO-8601 date-time with a time zone (e.g. 2026-05-21T10:30:00Z or ` +
          `2026-05-21T12:30:00+02:00), got ${describeValue(value)}; send unix milliseconds as a number`,
      );
    }
    if (ms < 0) {
      return reject(
        'invalid_timestamp',
        'timestamp',
        `timestamp must not be before 1970-01-01, got ${value}`,
      );
    }
  } else {
    return reject(
      'invalid_type',
      'timestamp',
      `timestamp must be a number (unix ms) or an ISO-8601 string, got ${jsonTypeOf(value)}`,
    );
  }
  if (ms > window.receivedAt + window.maxFutureMs) {
    return reject(
      'timestamp_in_future',
      'timestamp',
      `timestamp ${formatMs(ms)} is more than ${formatDuration(window.maxFutureMs)} after the receive time ` +
        `${formatMs(window.receivedAt)}`,
    );
  }
  if (ms < window.receivedAt - window.backfillMs) {
    const hint =
      typeof value === 'number' && ms < PROBABLY_SECONDS_BELOW ? ' (seconds instead of milliseconds?)' : '';
    return reject(
      'timestamp_too_old',
      'timestamp',
      `timestamp ${formatMs(ms)} is more than ${formatDuration(window.backfillMs)} before the receive time ` +
        `${formatMs(window.receivedAt)}${hint}`,
    );
  }
  return ms;
}
