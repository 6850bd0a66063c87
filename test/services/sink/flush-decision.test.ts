import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_FETCH_MAX_WAIT_MS,
  fetchSettings,
  RoundPacer,
  roundHold,
  type FlushPolicy,
} from '../../../services/sink/src/flush-decision.ts';

const adaptive: FlushPolicy = {
  mode: 'adaptive',
  intervalMs: 500,
  insertShare: 0.25,
  insertAtOnceRows: 50_000,
};

describe('roundHold, adaptive', () => {
  it('holds the next fetch by what the insert cost: the sink inserts at most its share of the time', () => {
    expect(roundHold(adaptive, 10, 3), 'a quiet round: the next fetch follows almost at once').toEqual({
      pacing: 'paced',
      holdMs: 30,
    });
    expect(roundHold(adaptive, 100, 2_000)).toEqual({ pacing: 'paced', holdMs: 300 });
    expect(roundHold({ ...adaptive, insertShare: 0.5 }, 100, 2_000)).toEqual({
      pacing: 'paced',
      holdMs: 100,
    });
    expect(roundHold({ ...adaptive, insertShare: 1 }, 100, 2_000), 'a share of 1: never held').toEqual({
      pacing: 'paced',
      holdMs: 0,
    });
  });

  it('starts rounds at most an interval apart, however long the insert took (heavy load)', () => {
    expect(roundHold(adaptive, 125, 5_000)).toEqual({ pacing: 'capped', holdMs: 375 });
    expect(roundHold(adaptive, 200, 5_000)).toEqual({ pacing: 'capped', holdMs: 300 });
    expect(
      roundHold(adaptive, 700, 5_000),
      'a round longer than the interval: the next fetch at once',
    ).toEqual({
      pacing: 'capped',
      holdMs: 0,
    });
  });

  it('reads a clock that went backwards as an instant insert', () => {
    expect(roundHold(adaptive, -5, 3)).toEqual({ pacing: 'paced', holdMs: 0 });
  });

  it('never holds a round as large as an insert should be (a backlog is not made to wait)', () => {
    expect(roundHold(adaptive, 300, 50_000)).toEqual({ pacing: 'large', holdMs: 0 });
    expect(roundHold(adaptive, 300, 49_999).pacing).toBe('capped');
  });
});

describe('roundHold, interval (before issue 19)', () => {
  it('never holds: the broker gathers the next fetch', () => {
    const interval: FlushPolicy = { ...adaptive, mode: 'interval', intervalMs: 1_000 };
    expect(roundHold(interval, 300, 3)).toEqual({ pacing: 'fetched', holdMs: 0 });
  });
});

describe('RoundPacer', () => {
  /** Rounds back to back for `untilMs` (as a backlog would), each taking `insertMs(rows)`; their start times. */
  function simulate(insertMs: (rows: number) => number, rowsPerMs: number, untilMs: number): number[] {
    let now = 0;
    const pacer = new RoundPacer(adaptive, () => now);
    const starts: number[] = [];
    let last = -1;
    while (now < untilMs) {
      const rows = last < 0 ? 1 : Math.round((now - last) * rowsPerMs);
      last = now;
      starts.push(now);
      pacer.started();
      now += insertMs(rows);
      now += pacer.hold(rows).holdMs;
    }
    return starts;
  }
  const gaps = (starts: number[]) => starts.slice(1).map((t, i) => t - (starts[i] as number));

  it('lets light traffic through within a few insert times, and batches heavy traffic once per interval', () => {
    // An insert costs 8 ms plus 10 µs a row (the shape measured on embedded ClickHouse: mostly fixed).
    const cost = (rows: number) => 8 + rows / 100;
    const light = gaps(simulate(cost, 0.01, 10_000)); // 10 rows a second
    expect(Math.max(...light), `light traffic: ${light.slice(-3).join(', ')} ms apart`).toBeLessThan(50);
    // 30,000 rows a second: the rounds grow with the wait until they are an interval apart (a second in).
    const heavy = gaps(simulate(cost, 30, 10_000).filter((t) => t >= 1_000));
    expect(
      heavy.every((g) => g >= 499 && g <= 501),
      `heavy traffic: rounds ${heavy.slice(-3).join(', ')} ms apart`,
    ).toBe(true);
  });

  it('times each round from its own start', () => {
    let now = 1_000;
    const pacer = new RoundPacer(adaptive, () => now);
    pacer.started();
    now += 40;
    expect(pacer.hold(10)).toEqual({ pacing: 'paced', holdMs: 120 });
    now += 5_000; // a quiet spell: nothing carries over
    pacer.started();
    now += 4;
    expect(pacer.hold(1)).toEqual({ pacing: 'paced', holdMs: 12 });
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
