import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_FETCH_MAX_WAIT_MS,
  fetchSettings,
  flushDecision,
  ROUND_BURST,
  tokensAt,
  type FlushPolicy,
} from '../../../services/sink/src/flush-decision.ts';

const adaptive: FlushPolicy = {
  mode: 'adaptive',
  intervalMs: 500,
  insertAtOnceBytes: 262_144,
  insertAtOnceRows: 50_000,
};
const small = { rows: 3, bytes: 300 };
const joinedNow = { msAgo: 1, joined: true };

describe('flushDecision, adaptive', () => {
  it('inserts sporadic records at once: a token is there, a round starts (the sink had caught up)', () => {
    expect(flushDecision(adaptive, { ...small, round: null, tokens: ROUND_BURST })).toEqual({
      flush: true,
      reason: 'round',
    });
    expect(
      flushDecision(adaptive, { ...small, round: { msAgo: 40, joined: true }, tokens: 1.2 }),
      'a round moments ago, but the bucket not empty',
    ).toEqual({ flush: true, reason: 'round' });
  });

  it('defers a small batch once the bucket is empty, until the next token', () => {
    expect(flushDecision(adaptive, { ...small, round: { msAgo: 120, joined: true }, tokens: 0.24 })).toEqual({
      flush: false,
      waitMs: 380,
    });
    expect(flushDecision(adaptive, { ...small, round: { msAgo: 0, joined: true }, tokens: 0 })).toEqual({
      flush: false,
      waitMs: 500,
    });
    expect(
      flushDecision(adaptive, { ...small, round: { msAgo: 499, joined: true }, tokens: 0.9999 }),
      'never a wait of 0 (a busy loop)',
    ).toEqual({ flush: false, waitMs: 1 });
  });

  it("joins the other topic's round of the same partition within half an interval, so both tables move together", () => {
    expect(flushDecision(adaptive, { ...small, round: { msAgo: 30, joined: false }, tokens: 0 })).toEqual({
      flush: true,
      reason: 'companion',
    });
    expect(
      flushDecision(adaptive, { ...small, round: { msAgo: 250, joined: false }, tokens: 0.5 }),
      'half an interval late: waits for the next round',
    ).toEqual({ flush: false, waitMs: 250 });
  });

  it('inserts a large batch at once even with no token (a backlog is not made to wait)', () => {
    const recent = { msAgo: 10, joined: true };
    expect(
      flushDecision(adaptive, { rows: 2_000, bytes: 262_144, round: recent, tokens: 0 }),
      'bytes at the threshold',
    ).toEqual({ flush: true, reason: 'large' });
    expect(
      flushDecision(adaptive, { rows: 50_000, bytes: 1_000, round: recent, tokens: 0 }),
      'a full insert of rows',
    ).toEqual({ flush: true, reason: 'large' });
    expect(
      flushDecision(adaptive, { rows: 49_999, bytes: 262_143, round: recent, tokens: 0 }).flush,
      'just below both',
    ).toBe(false);
  });
});

describe('tokensAt', () => {
  it('starts full, refills one token per interval, and holds at most ROUND_BURST', () => {
    expect(tokensAt(undefined, 1_000, 500)).toBe(ROUND_BURST);
    expect(tokensAt({ tokens: 0, at: 1_000 }, 1_250, 500)).toBe(0.5);
    expect(tokensAt({ tokens: 0.5, at: 1_000 }, 1_000 + 60_000, 500), 'an idle minute').toBe(ROUND_BURST);
    expect(tokensAt({ tokens: 1, at: 1_000 }, 900, 500), 'a clock step back adds nothing').toBe(1);
  });

  it('allows one round per interval under steady traffic once the burst is spent', () => {
    let budget = { tokens: ROUND_BURST, at: 0 };
    const roundsAt: number[] = [];
    for (let now = 0; now <= 10_000; now += 10) {
      const tokens = tokensAt(budget, now, 500);
      if (tokens >= 1) {
        roundsAt.push(now);
        budget = { tokens: tokens - 1, at: now };
      }
    }
    expect(roundsAt.slice(0, ROUND_BURST), 'the burst at once').toEqual([0, 10, 20]);
    expect(roundsAt.length, 'then one per 500 ms over 10 s').toBe(ROUND_BURST + 20);
  });
});

describe('flushDecision, interval (before issue 19)', () => {
  it('inserts every fetched batch: the broker did the waiting', () => {
    const interval: FlushPolicy = { ...adaptive, mode: 'interval', intervalMs: 1_000 };
    expect(flushDecision(interval, { ...small, round: joinedNow, tokens: 0 })).toEqual({
      flush: true,
      reason: 'fetched',
    });
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
