import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_FETCH_MAX_WAIT_MS,
  fetchSettings,
  roundTiming,
  type FlushPolicy,
} from '../../../services/sink/src/flush-decision.ts';

const adaptive: FlushPolicy = { mode: 'adaptive', intervalMs: 500, insertAtOnceRows: 50_000 };

describe('roundTiming, adaptive', () => {
  it('starts the first round, and one after a quiet interval, at once (the sink had caught up)', () => {
    expect(roundTiming(adaptive, null, 3)).toEqual({ start: 'idle', waitMs: 0 });
    expect(roundTiming(adaptive, 500, 3)).toEqual({ start: 'idle', waitMs: 0 });
    expect(roundTiming(adaptive, 7_000, 1)).toEqual({ start: 'idle', waitMs: 0 });
  });

  it('makes a small round wait for the rest of the interval since the previous one started', () => {
    expect(roundTiming(adaptive, 120, 3)).toEqual({ start: 'paced', waitMs: 380 });
    expect(roundTiming(adaptive, 0, 3)).toEqual({ start: 'paced', waitMs: 500 });
    expect(roundTiming(adaptive, 499.2, 3), 'never a busy loop: at least a millisecond').toEqual({
      start: 'paced',
      waitMs: 1,
    });
  });

  it('starts a round at once when it is as large as an insert should be (a backlog is not made to wait)', () => {
    expect(roundTiming(adaptive, 10, 50_000)).toEqual({ start: 'large', waitMs: 0 });
    expect(roundTiming(adaptive, 10, 49_999).start).toBe('paced');
  });

  it('gives steady traffic one round per interval', () => {
    // Rounds gathered every 50 ms: each waits for the interval since the previous start.
    let lastStart = 0;
    const starts: number[] = [];
    for (let t = 0; t < 2_000; t += 50) {
      if (t < lastStart) continue;
      const { waitMs } = roundTiming(adaptive, starts.length === 0 ? null : t - lastStart, 10);
      lastStart = t + waitMs;
      starts.push(lastStart);
    }
    expect(starts).toEqual([0, 500, 1000, 1500, 2000]);
  });
});

describe('roundTiming, interval (before issue 19)', () => {
  it('starts every round at once: the broker did the waiting', () => {
    const interval: FlushPolicy = { ...adaptive, mode: 'interval', intervalMs: 1_000 };
    expect(roundTiming(interval, 1, 3)).toEqual({ start: 'fetched', waitMs: 0 });
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
