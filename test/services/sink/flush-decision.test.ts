import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_FETCH_MAX_WAIT_MS,
  fetchSettings,
  ROUND_BURST,
  RoundPacer,
  roundHold,
  tokensAt,
  type FlushPolicy,
} from '../../../services/sink/src/flush-decision.ts';

const adaptive: FlushPolicy = { mode: 'adaptive', intervalMs: 500, insertAtOnceRows: 50_000 };

describe('roundHold, adaptive', () => {
  it('lets the next fetch go at once while a token is left (the sink had caught up)', () => {
    expect(roundHold(adaptive, 2, 3)).toEqual({ pacing: 'idle', holdMs: 0 });
    expect(roundHold(adaptive, 1, 3)).toEqual({ pacing: 'idle', holdMs: 0 });
  });

  it('holds the next fetch until the next token once the budget is spent', () => {
    expect(roundHold(adaptive, 0.24, 3)).toEqual({ pacing: 'paced', holdMs: 380 });
    expect(roundHold(adaptive, 0, 3)).toEqual({ pacing: 'paced', holdMs: 500 });
    expect(roundHold(adaptive, 0.9999, 3), 'never a busy loop: at least a millisecond').toEqual({
      pacing: 'paced',
      holdMs: 1,
    });
  });

  it('never holds a round as large as an insert should be (a backlog is not made to wait)', () => {
    expect(roundHold(adaptive, 0, 50_000)).toEqual({ pacing: 'large', holdMs: 0 });
    expect(roundHold(adaptive, 0, 49_999).pacing).toBe('paced');
  });
});

describe('roundHold, interval (before issue 19)', () => {
  it('never holds: the broker gathers the next fetch', () => {
    const interval: FlushPolicy = { ...adaptive, mode: 'interval', intervalMs: 1_000 };
    expect(roundHold(interval, 0, 3)).toEqual({ pacing: 'fetched', holdMs: 0 });
  });
});

describe('the round budget', () => {
  it('starts full, refills one token per interval, and holds at most ROUND_BURST', () => {
    expect(tokensAt(undefined, 0, 500)).toBe(ROUND_BURST);
    expect(tokensAt({ tokens: 0, at: 1_000 }, 1_250, 500)).toBe(0.5);
    expect(tokensAt({ tokens: 2, at: 0 }, 60_000, 500)).toBe(ROUND_BURST);
  });

  it('lets a quiet pipeline through at once and gives steady traffic one round per interval', () => {
    let now = 0;
    const pacer = new RoundPacer(adaptive, () => now);
    // Rounds as fast as they come (each takes 10 ms), the fetch held whenever the pacer says.
    const starts: number[] = [];
    while (now < 2_600) {
      starts.push(now);
      pacer.started();
      now += 10;
      now += pacer.hold(100).holdMs;
    }
    const burst = starts.filter((t) => t < 500);
    expect(burst.length, 'the burst, plus the token refilled meanwhile').toBeGreaterThanOrEqual(ROUND_BURST);
    const steady = starts.filter((t) => t >= 1_000);
    const gaps = steady.slice(1).map((t, i) => t - (steady[i] as number));
    expect(
      gaps.every((g) => g >= 499 && g <= 511),
      `gaps ${gaps.join(', ')}`,
    ).toBe(true);

    pacer.reset();
    expect(pacer.hold(1).holdMs, 'a new assignment: a full budget').toBe(0);
  });
});

describe('fetchSettings', () => {
  it('lets the broker batch in interval mode: wait the interval for the minimum bytes', () => {
    expect(fetchSettings({ ...adaptive, mode: 'interval', intervalMs: 1_000 }, 262_144)).toEqual({
      maxWaitTimeInMs: 1_000,
      minBytes: 262_144,
    });
  });

  it('returns at the first record in adaptive mode, holding an empty fetch briefly', () => {
    expect(fetchSettings(adaptive, 262_144)).toEqual({
      maxWaitTimeInMs: ADAPTIVE_FETCH_MAX_WAIT_MS,
      minBytes: 1,
    });
    expect(
      fetchSettings({ ...adaptive, intervalMs: 20 }, 262_144).maxWaitTimeInMs,
      'never above the interval',
    ).toBe(20);
  });
});
