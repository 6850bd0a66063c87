import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY,
  judgeAttempt,
  parseRetryAfterMs,
  retryDelayMs,
  type AttemptOutcome,
} from '../../sdk/src/retry-policy.ts';

const response = (status: number, retryAfter: string | null = null): AttemptOutcome => ({
  kind: 'response',
  status,
  retryAfter,
});
const network: AttemptOutcome = { kind: 'network', error: new TypeError('fetch failed') };
const NOW = Date.parse('2026-12-05T12:00:00Z');

describe('judgeAttempt', () => {
  it('retries network errors, 408, 429 and the unavailable 5xx', () => {
    for (const outcome of [
      network,
      response(408),
      response(429),
      response(502),
      response(503),
      response(504),
    ]) {
      expect(judgeAttempt(outcome), JSON.stringify(outcome)).toBe('retry');
    }
  });

  it('never retries another 4xx, nor 500 (a defect would block the queue forever)', () => {
    for (const status of [400, 401, 403, 404, 413, 415, 431, 500, 501]) {
      expect(judgeAttempt(response(status)), `status ${status}`).toBe('refused');
    }
  });

  it('counts a 2xx as delivered', () => {
    expect(judgeAttempt(response(200))).toBe('delivered');
  });
});

describe('retryDelayMs', () => {
  it('doubles from baseDelayMs with equal jitter, up to maxDelayMs', () => {
    const low = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, network, DEFAULT_RETRY, () => 0, NOW));
    const high = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, network, DEFAULT_RETRY, () => 1, NOW));
    expect(low, 'lowest draw: half the ceiling').toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect(high, 'highest draw: the ceiling').toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('does not overflow after very many failures', () => {
    expect(retryDelayMs(100_000, network, DEFAULT_RETRY, () => 0.5, NOW)).toBe(22_500);
  });

  it('waits at least Retry-After seconds, plus jitter of at most baseDelayMs', () => {
    expect(retryDelayMs(1, response(503, '7'), DEFAULT_RETRY, () => 0, NOW)).toBe(7_000);
    expect(retryDelayMs(1, response(429, '7'), DEFAULT_RETRY, () => 0.999, NOW)).toBe(7_999);
  });

  it('keeps the longer exponential backoff when Retry-After is shorter', () => {
    expect(retryDelayMs(6, response(503, '1'), DEFAULT_RETRY, () => 0, NOW)).toBe(15_000);
  });

  it('caps Retry-After at maxRetryAfterMs', () => {
    expect(retryDelayMs(1, response(503, '86400'), DEFAULT_RETRY, () => 0, NOW)).toBe(120_000);
  });

  it('reads an HTTP-date Retry-After relative to now', () => {
    const at = new Date(NOW + 12_000).toUTCString();
    expect(retryDelayMs(1, response(503, at), DEFAULT_RETRY, () => 0, NOW)).toBe(12_000);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    expect(parseRetryAfterMs('3', NOW)).toBe(3_000);
    expect(parseRetryAfterMs(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfterMs(new Date(NOW - 5_000).toUTCString(), NOW), 'a date in the past').toBe(0);
    expect(parseRetryAfterMs(null, NOW), 'absent (or hidden by CORS)').toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-1', NOW)).toBeUndefined();
  });
});
