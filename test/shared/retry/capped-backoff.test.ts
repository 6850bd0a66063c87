import { describe, expect, it } from 'vitest';
import { backoffDelayMs, fullDelay } from '../../../shared/retry/capped-backoff.ts';

const policy = { initialMs: 100, maxMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles from the initial delay, drawn in the upper half', () => {
    expect(
      backoffDelayMs(1, policy, () => 0),
      'attempt 1, lowest draw',
    ).toBe(50);
    expect(
      backoffDelayMs(1, policy, () => 0.999999),
      'attempt 1, highest draw',
    ).toBe(100);
    expect(
      backoffDelayMs(3, policy, () => 0.999999),
      'attempt 3 = 4 × initial',
    ).toBe(400);
  });

  it('is capped at maxMs however many attempts failed', () => {
    expect(backoffDelayMs(50, policy, () => 0.999999)).toBe(1_000);
    expect(
      backoffDelayMs(10_000, policy, () => 0.5),
      'no overflow for huge attempt numbers',
    ).toBe(750);
  });
});

describe('backoffDelayMs without jitter', () => {
  it('gives the full delay when the draw is 1: 1 s doubling to 30 s, as local mode uses it', () => {
    const local = { initialMs: 1_000, maxMs: 30_000 };
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, local, () => 1));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('fullDelay gives the gateway the delays it had: 250 ms doubling to 10 s', () => {
    const gateway = { initialMs: 250, maxMs: 10_000 };
    const formula = (attempt: number) => Math.min(10_000, 250 * 2 ** Math.min(attempt - 1, 10));
    for (const attempt of [1, 2, 3, 4, 5, 6, 7, 11, 12, 40, 1_000]) {
      expect(backoffDelayMs(attempt, gateway, fullDelay), `attempt ${attempt}`).toBe(formula(attempt));
    }
  });
});
