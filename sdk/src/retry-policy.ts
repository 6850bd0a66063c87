/**
 * When to send a batch again, and after how long. Pure: the outcome of one attempt in, a verdict out.
 *
 * Retried: network errors (refused, reset, timed out: the request may or may not have arrived, and
 * the message_ids make a second copy harmless), 408, 429, and the "unavailable" 5xx (502, 503, 504),
 * which say nothing was accepted. Not retried: every other 4xx (the same request would be refused
 * again) and 500 (a defect; retrying it would block the queue behind one batch forever).
 */

/** What one attempt to send a batch came to. */
export type AttemptOutcome =
  { kind: 'network'; error: unknown } | { kind: 'response'; status: number; retryAfter: string | null };

/** Backoff settings, all in milliseconds. */
export interface RetryOptions {
  /** First backoff; doubles per consecutive failure. */
  baseDelayMs: number;
  /** Largest backoff between two attempts. */
  maxDelayMs: number;
  /** Largest wait a server's Retry-After may impose (a misconfigured proxy must not park the SDK for hours). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** The verdict on one attempt. */
export type AttemptVerdict = 'delivered' | 'retry' | 'refused';

const RETRIED_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** Whether the attempt delivered the batch, should be repeated, or was refused for good. */
export function judgeAttempt(outcome: AttemptOutcome): AttemptVerdict {
  if (outcome.kind === 'network') return 'retry';
  if (outcome.status >= 200 && outcome.status < 300) return 'delivered';
  return RETRIED_STATUSES.has(outcome.status) ? 'retry' : 'refused';
}

/**
 * Milliseconds to wait before attempt `failures + 1`, after `failures` consecutive failed attempts
 * (≥ 1). Exponential backoff with equal jitter (half fixed, half random, so clients that failed
 * together spread out but none retries at once); a Retry-After is a floor, capped at
 * `maxRetryAfterMs`, with up to `baseDelayMs` of jitter on top. `random` returns [0, 1).
 */
export function retryDelayMs(
  failures: number,
  outcome: AttemptOutcome,
  options: RetryOptions,
  random: () => number,
  nowMs: number,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(failures - 1, 30));
  const backoff = ceiling / 2 + random() * (ceiling / 2);
  const retryAfter = outcome.kind === 'response' ? parseRetryAfterMs(outcome.retryAfter, nowMs) : undefined;
  if (retryAfter === undefined) return Math.round(backoff);
  return Math.round(
    Math.max(Math.min(retryAfter, options.maxRetryAfterMs), backoff) + random() * options.baseDelayMs,
  );
}

/**
 * A Retry-After header in milliseconds from now: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable (a cross-origin response hides it unless the gateway exposes it).
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its weekday and month ("Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse alone
  // would also take "-1" or "2026" for dates.
  const date = /[a-z]{3}/i.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
