import { describe, expect, it } from 'vitest';
import { BatchCoalescer } from '../../../../services/gateway/src/transport/batch-coalescer.ts';
import type {
  CoalescerClock,
  CoalescerOptions,
  ProduceFailure,
} from '../../../../services/gateway/src/transport/batch-coalescer.ts';

/** A clock that moves only when the test says so; tasks due at the same time run in schedule order. */
class ManualClock implements CoalescerClock {
  private t = 0;
  private seq = 0;
  private tasks: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  schedule(fn: () => void, ms: number): () => void {
    const task = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.tasks.push(task);
    return () => {
      this.tasks = this.tasks.filter((x) => x !== task);
    };
  }

  /** Moves time forward by `ms`, running every task that falls due, then lets promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.tasks.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.tasks = this.tasks.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A send function whose calls the test completes by hand. */
class FakeSend {
  readonly calls: { records: string[]; lane: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  readonly fn = (records: string[], lane: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.calls.push({ records: [...records], lane, resolve, reject });
    });

  call(i: number): { records: string[]; lane: number; resolve: () => void; reject: (e: Error) => void } {
    const c = this.calls[i];
    if (c === undefined) throw new Error(`send #${i} was never called (${this.calls.length} calls)`);
    return c;
  }
}

/** Submits in the background: the test does not look at this submission's outcome. */
function bg(p: Promise<void>): void {
  p.catch(() => undefined);
}

/** Tracks how a submission's promise ended. */
function watch(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: ProduceFailure } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; error?: ProduceFailure } = { state: 'pending' };
  p.then(
    () => {
      w.state = 'resolved';
    },
    (e: ProduceFailure) => {
      w.state = 'rejected';
      w.error = e;
    },
  );
  return w;
}

function setup(overrides: Partial<CoalescerOptions<string>> = {}): {
  clock: ManualClock;
  send: FakeSend;
  c: BatchCoalescer<string>;
} {
  const clock = new ManualClock();
  const send = new FakeSend();
  const c = new BatchCoalescer<string>({
    send: send.fn,
    lanes: 1,
    maxEvents: 100,
    maxBytes: 10_000,
    lingerMs: 0,
    timeoutMs: 5_000,
    maxQueuedBytes: 1_000_000,
    clock,
    ...overrides,
  });
  return { clock, send, c };
}

/** `n` records named `<prefix>0..n-1`. */
function recs(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

describe('BatchCoalescer', () => {
  it('sends a lone submission once the linger has passed, not before', async () => {
    const { clock, send, c } = setup({ lingerMs: 2 });
    bg(c.submit(['a'], 10));
    await clock.advance(1);
    expect(send.calls.length, 'no send before lingerMs').toBe(0);
    await clock.advance(1);
    expect(send.calls.length, 'one send at lingerMs').toBe(1);
    expect(send.call(0).records).toEqual(['a']);
  });

  it('puts submissions made within the linger into one send, in submission order', async () => {
    const { clock, send, c } = setup({ lingerMs: 5 });
    bg(c.submit(['a0', 'a1'], 20));
    await clock.advance(2);
    bg(c.submit(['b0'], 10));
    await clock.advance(3);
    expect(send.calls.length).toBe(1);
    expect(send.call(0).records).toEqual(['a0', 'a1', 'b0']);
  });

  it('does not wait for the linger once the queue holds maxEvents records', async () => {
    const { clock, send, c } = setup({ lingerMs: 1_000, maxEvents: 3 });
    bg(c.submit(recs('a', 2), 20));
    await clock.advance(0);
    expect(send.calls.length, 'below maxEvents: lingering').toBe(0);
    bg(c.submit(recs('b', 1), 10));
    await clock.advance(0);
    expect(send.calls.length, 'at maxEvents: sent at once').toBe(1);
    expect(send.call(0).records).toEqual(['a0', 'a1', 'b0']);
  });

  it('coalesces everything submitted while a send is in flight into the next send', async () => {
    const { clock, send, c } = setup();
    bg(c.submit(['a'], 10));
    await clock.advance(0);
    expect(send.calls.length).toBe(1);
    for (const p of ['b', 'c', 'd']) bg(c.submit([p], 10));
    await clock.advance(10);
    expect(send.calls.length, 'one lane: nothing more while a send is in flight').toBe(1);
    send.call(0).resolve();
    await clock.advance(0);
    expect(send.calls.length).toBe(2);
    expect(send.call(1).records, 'the three waiting requests travel together').toEqual(['b', 'c', 'd']);
  });

  it('resolves a submission only when the send carrying it is acknowledged', async () => {
    const { clock, send, c } = setup();
    const w = watch(c.submit(['a'], 10));
    await clock.advance(100);
    expect(w.state, 'still waiting for Kafka').toBe('pending');
    send.call(0).resolve();
    await clock.advance(0);
    expect(w.state).toBe('resolved');
  });

  it('rejects every submission of a failed send, and only those', async () => {
    const { clock, send, c } = setup();
    const first = watch(c.submit(['a'], 10));
    await clock.advance(0);
    const second = watch(c.submit(['b'], 10));
    const third = watch(c.submit(['c'], 10));
    send.call(0).resolve();
    await clock.advance(0);
    send.call(1).reject(new Error('NOT_ENOUGH_REPLICAS'));
    await clock.advance(0);
    expect(first.state, 'the earlier send succeeded').toBe('resolved');
    expect(second.state).toBe('rejected');
    expect(third.state).toBe('rejected');
    expect(second.error?.reason).toBe('send_failed');
    expect(second.error?.message).toContain('NOT_ENOUGH_REPLICAS');
  });

  it('rejects with timeout when the send is not acknowledged within timeoutMs', async () => {
    const { clock, c } = setup({ timeoutMs: 1_000 });
    const w = watch(c.submit(['a'], 10));
    await clock.advance(999);
    expect(w.state, 'before the deadline').toBe('pending');
    await clock.advance(1);
    expect(w.state, 'at the deadline').toBe('rejected');
    expect(w.error?.reason).toBe('timeout');
  });

  it('never sends a submission that timed out while queued', async () => {
    const { clock, send, c } = setup({ timeoutMs: 1_000 });
    bg(c.submit(['a'], 10));
    await clock.advance(0);
    const late = watch(c.submit(['b'], 10));
    await clock.advance(1_000);
    expect(late.state).toBe('rejected');
    expect(c.stats().queuedRecords, 'expired records leave the queue').toBe(0);
    send.call(0).resolve();
    bg(c.submit(['c'], 10));
    await clock.advance(0);
    expect(send.calls.length).toBe(2);
    expect(send.call(1).records, 'the expired submission is not sent').toEqual(['c']);
  });

  it('keeps a late acknowledgement from changing a timed-out answer', async () => {
    const { clock, send, c } = setup({ timeoutMs: 1_000 });
    const w = watch(c.submit(['a'], 10));
    await clock.advance(1_000);
    send.call(0).resolve();
    await clock.advance(0);
    expect(w.state).toBe('rejected');
    expect(w.error?.reason).toBe('timeout');
  });

  it('never splits a submission and stops a send before it would exceed maxEvents', async () => {
    const { clock, send, c } = setup({ maxEvents: 5 });
    bg(c.submit(['x'], 1));
    await clock.advance(0);
    bg(c.submit(recs('a', 3), 3));
    bg(c.submit(recs('b', 3), 3));
    send.call(0).resolve();
    await clock.advance(0);
    expect(send.call(1).records, '3 + 3 > 5: the second request waits').toEqual(['a0', 'a1', 'a2']);
    send.call(1).resolve();
    await clock.advance(0);
    expect(send.call(2).records).toEqual(['b0', 'b1', 'b2']);
  });

  it('stops a send before it would exceed maxBytes', async () => {
    const { clock, send, c } = setup({ maxBytes: 100 });
    bg(c.submit(['x'], 1));
    await clock.advance(0);
    bg(c.submit(['a'], 60));
    bg(c.submit(['b'], 60));
    send.call(0).resolve();
    await clock.advance(0);
    expect(send.call(1).records).toEqual(['a']);
  });

  it('sends a submission larger than maxEvents alone rather than refusing it', async () => {
    const { clock, send, c } = setup({ maxEvents: 2 });
    const w = watch(c.submit(recs('a', 5), 5));
    await clock.advance(0);
    expect(send.call(0).records).toEqual(recs('a', 5));
    send.call(0).resolve();
    await clock.advance(0);
    expect(w.state).toBe('resolved');
  });

  it('runs at most `lanes` sends at once, each on its own lane', async () => {
    const { clock, send, c } = setup({ lanes: 2, maxEvents: 1 });
    for (const p of ['a', 'b', 'c']) bg(c.submit([p], 1));
    await clock.advance(0);
    expect(send.calls.length, 'two lanes: two sends in flight').toBe(2);
    expect(send.calls.map((x) => x.lane).sort()).toEqual([0, 1]);
    expect(c.stats().sendsInFlight).toBe(2);
    send.call(1).resolve();
    await clock.advance(0);
    expect(send.calls.length).toBe(3);
    expect(send.call(2).lane, 'the freed lane takes the next batch').toBe(send.call(1).lane);
  });

  it('refuses a submission at once when too many bytes are already queued', async () => {
    const { clock, c } = setup({ maxQueuedBytes: 100 });
    bg(c.submit(['a'], 10));
    await clock.advance(0);
    bg(c.submit(['b'], 80));
    const w = watch(c.submit(['c'], 30));
    await clock.advance(0);
    expect(w.state).toBe('rejected');
    expect(w.error?.reason).toBe('overloaded');
    expect(c.stats().queuedBytes, 'the refused bytes are not queued').toBe(80);
  });

  it('on close sends what is queued without lingering, waits for it, then refuses new work', async () => {
    const { clock, send, c } = setup({ lingerMs: 10_000 });
    const w = watch(c.submit(['a'], 10));
    let closed = false;
    void c.close().then(() => {
      closed = true;
    });
    await clock.advance(0);
    expect(send.calls.length, 'flushed without waiting for the linger').toBe(1);
    expect(closed, 'close waits for the send in flight').toBe(false);
    send.call(0).resolve();
    await clock.advance(0);
    expect(w.state).toBe('resolved');
    expect(closed).toBe(true);
    const after = watch(c.submit(['b'], 10));
    await clock.advance(0);
    expect(after.error?.reason).toBe('closed');
  });

  it('treats a send function that throws synchronously as a failed send', async () => {
    const clock = new ManualClock();
    const c = new BatchCoalescer<string>({
      send: () => {
        throw new Error('producer is disconnected');
      },
      lanes: 1,
      maxEvents: 10,
      maxBytes: 100,
      lingerMs: 0,
      timeoutMs: 1_000,
      maxQueuedBytes: 1_000,
      clock,
    });
    const w = watch(c.submit(['a'], 1));
    await clock.advance(0);
    expect(w.error?.reason).toBe('send_failed');
    const next = watch(c.submit(['b'], 1));
    await clock.advance(0);
    expect(next.error?.reason, 'the lane is free again afterwards').toBe('send_failed');
  });

  it("reports each submission's wait before its send: the linger, then the wait for a free lane", async () => {
    const waits: number[] = [];
    const { clock, send, c } = setup({
      lingerMs: 2,
      observer: { onSubmissionSent: (ms) => waits.push(ms) },
    });
    bg(c.submit(recs('a', 1), 10));
    await clock.advance(2); // lingers 2 ms, then goes out alone
    expect(waits).toEqual([2]);
    await clock.advance(1);
    bg(c.submit(recs('b', 1), 10)); // t = 3: the only lane is busy with a
    await clock.advance(4);
    bg(c.submit(recs('c', 1), 10)); // t = 7
    await clock.advance(3);
    send.call(0).resolve(); // t = 10: b (waited 7 ms) and c (3 ms) leave together
    await clock.advance(0);
    expect(send.calls).toHaveLength(2);
    expect(waits).toEqual([2, 7, 3]);
  });

  it('reports each send to the observer with its size and outcome', async () => {
    const ends: { records: number; bytes: number; failed: boolean }[] = [];
    const { clock, send, c } = setup({
      observer: {
        onSendEnd: (info, _ms, err) => ends.push({ records: info.records, bytes: info.bytes, failed: !!err }),
      },
    });
    bg(c.submit(recs('a', 3), 30));
    await clock.advance(0);
    send.call(0).reject(new Error('boom'));
    await clock.advance(0);
    expect(ends).toEqual([{ records: 3, bytes: 30, failed: true }]);
  });
});
