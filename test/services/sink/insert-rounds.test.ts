import { describe, expect, it } from 'vitest';
import { RoundPacer, type RoundHold } from '../../../services/sink/src/flush-decision.ts';
import { GATHER_MAX_MS, InsertRounds } from '../../../services/sink/src/insert-rounds.ts';
import type { RoundMember, RoundPacerLike } from '../../../services/sink/src/insert-rounds.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Never holds. */
const free: RoundPacerLike = {
  started: () => undefined,
  hold: (): RoundHold => ({ pacing: 'paced', holdMs: 0 }),
};

/** Rounds over string payloads that record what each round held; `store` decides what got stored. */
function recorder(store: (payload: string) => boolean = () => true, runMs = 0) {
  const rounds: string[][] = [];
  const runner = async (members: readonly RoundMember<string>[]) => {
    rounds.push(members.map((m) => m.payload));
    if (runMs > 0) await sleep(runMs);
    return members.map((m) => store(m.payload));
  };
  return { rounds, runner };
}

describe('InsertRounds', () => {
  it('stores the batches handled at once in one round, and tells each whether its rows went in', async () => {
    const { rounds, runner } = recorder((p) => p !== 'stale');
    const insert = new InsertRounds<string>(free, runner);
    const names = ['p0', 'p1', 'stale'];
    const tickets = names.map(() => insert.enter());
    const outcomes = await Promise.all(tickets.map((t, i) => t.join(10, names[i] as string)));
    expect(rounds).toEqual([['p0', 'p1', 'stale']]);
    expect(outcomes).toEqual([true, true, false]);
  });

  it('does not wait for a batch that left without rows, nor for one that never joins past GATHER_MAX_MS', async () => {
    const { rounds, runner } = recorder();
    const insert = new InsertRounds<string>(free, runner);
    const a = insert.enter();
    const empty = insert.enter();
    const stored = a.join(1, 'a');
    empty.leave();
    expect(await stored).toBe(true);
    expect(rounds).toEqual([['a']]);

    const slow = insert.enter(); // e.g. waiting for the schema registry
    const b = insert.enter();
    const started = performance.now();
    expect(await b.join(1, 'b')).toBe(true);
    const waited = performance.now() - started;
    expect(waited, 'the round went in without the slow batch, after the gather limit').toBeGreaterThanOrEqual(
      GATHER_MAX_MS - 2,
    );
    expect(waited).toBeLessThan(GATHER_MAX_MS + 200);
    expect(rounds).toEqual([['a'], ['b']]);
    expect(await slow.join(1, 'slow'), 'the slow batch goes in the next round').toBe(true);
    expect(rounds).toEqual([['a'], ['b'], ['slow']]);
  });

  it('runs one round at a time, in order; batches arriving meanwhile make the next round', async () => {
    const { rounds, runner } = recorder(() => true, 60);
    const insert = new InsertRounds<string>(free, runner);
    const first = insert.enter().join(1, 'first');
    await sleep(10); // the first round is being inserted
    const later = [insert.enter(), insert.enter()].map((t, i) => t.join(1, `second-${i}`));
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await sleep(20);
    expect(rounds, 'the next round waits for the one being inserted').toEqual([['first']]);
    await Promise.all([first, ...later]);
    expect(firstDone).toBe(true);
    expect(rounds).toEqual([['first'], ['second-0', 'second-1']]);
  });

  it('inserts at once and then holds the stored round as the pacer says (the next fetch waits)', async () => {
    // Each insert takes 30 ms; with a share of 0.25 the pacer holds the round 90 ms, at most until 200 ms.
    const { rounds, runner } = recorder(() => true, 30);
    const pacings: string[] = [];
    const pacer = new RoundPacer({
      mode: 'adaptive',
      intervalMs: 200,
      insertShare: 0.25,
      insertAtOnceRows: 1_000,
    });
    const insert = new InsertRounds<string>(pacer, runner, (pacing) => pacings.push(pacing));
    const held: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      expect(await insert.enter().join(1, `r${i}`)).toBe(true);
      held.push(performance.now() - started);
    }
    expect(rounds).toHaveLength(3);
    expect(pacings).toEqual(['paced', 'paced', 'paced']);
    for (const ms of held) {
      expect(ms, 'the insert and its hold: 30 + 90 ms').toBeGreaterThanOrEqual(115);
      expect(ms, 'not held to the interval').toBeLessThan(195);
    }

    const large = performance.now();
    await insert.enter().join(1_000, 'large');
    expect(performance.now() - large, "a round of an insert's size is not held").toBeLessThan(100);
    expect(pacings.at(-1)).toBe('large');
  });

  it('fails every member of a round whose insert threw, and the next round still runs', async () => {
    let fail = true;
    const insert = new InsertRounds<string>(free, async (members) => {
      if (fail) throw new Error('simulated crash');
      return members.map(() => true);
    });
    const tickets = [insert.enter(), insert.enter()];
    const outcomes = await Promise.allSettled(tickets.map((t, i) => t.join(1, String(i))));
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : o.value))).toEqual([
      'simulated crash',
      'simulated crash',
    ]);
    fail = false;
    expect(await insert.enter().join(1, 'next')).toBe(true);
  });

  it('refuses a join after the batch left (a bug in the caller, not a silent loss)', () => {
    const insert = new InsertRounds<string>(free, async (m) => m.map(() => true));
    const ticket = insert.enter();
    ticket.leave();
    ticket.leave(); // idempotent
    expect(() => ticket.join(1, 'x')).toThrow(/after leaving/);
  });
});
