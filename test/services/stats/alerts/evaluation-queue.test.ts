import { afterEach, describe, expect, it, vi } from 'vitest';
import { EvaluationQueue } from '../../../../services/stats/src/alerts/evaluation-queue.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** A queue whose rounds take `runMs` of fake time; records each round as [start time, ...keys]. */
function setup(runMs = 0, maxBatch = 100) {
  vi.useFakeTimers({ now: 0 });
  const rounds: (string | number)[][] = [];
  const queue = new EvaluationQueue({
    minIntervalMs: 1_000,
    maxBatch,
    run: async (keys) => {
      rounds.push([Date.now(), ...keys]);
      if (runMs > 0) await new Promise((r) => setTimeout(r, runMs));
    },
  });
  return { queue, rounds };
}

describe('EvaluationQueue', () => {
  it('evaluates a changed experiment at once, and coalesces its further changes to one per interval', async () => {
    const { queue, rounds } = setup();
    queue.add('e1');
    await vi.advanceTimersByTimeAsync(0);
    for (let t = 0; t < 2_500; t += 50) {
      queue.add('e1');
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rounds, '51 changes, 4 evaluations a second apart').toEqual([
      [0, 'e1'],
      [1_000, 'e1'],
      [2_000, 'e1'],
      [3_000, 'e1'],
    ]);
    await queue.stop();
  });

  it('evaluates again after a change reported during an evaluation', async () => {
    const { queue, rounds } = setup(300);
    queue.add('e1');
    await vi.advanceTimersByTimeAsync(100);
    queue.add('e1');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(rounds).toEqual([
      [0, 'e1'],
      [1_000, 'e1'],
    ]);
    await queue.stop();
  });

  it('runs one round at a time; experiments due meanwhile share the next round, and keep sharing', async () => {
    const { queue, rounds } = setup(100);
    queue.add('e1');
    queue.add('e2');
    queue.add('e3');
    expect(queue.size, 'e1 running, e2 and e3 waiting').toBe(2);
    await vi.advanceTimersByTimeAsync(150);
    for (const key of ['e1', 'e2', 'e3']) queue.add(key);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rounds).toEqual([
      [0, 'e1'],
      [100, 'e2', 'e3'],
      [1_000, 'e1'],
      [1_100, 'e2', 'e3'],
    ]);
    await queue.stop();
  });

  it('takes at most maxBatch experiments in a round', async () => {
    const { queue, rounds } = setup(0, 2);
    vi.setSystemTime(0);
    for (const key of ['e1', 'e2', 'e3', 'e4', 'e5']) queue.add(key, 10);
    await vi.advanceTimersByTimeAsync(20);
    expect(rounds.map((r) => r.slice(1))).toEqual([['e1', 'e2'], ['e3', 'e4'], ['e5']]);
    await queue.stop();
  });

  it('honours a delay asked for (a retry), and forgets what is pending when stopped', async () => {
    const { queue, rounds } = setup();
    queue.add('e1', 5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(rounds).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toEqual([[5_000, 'e1']]);
    queue.add('e2', 1_000);
    await queue.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(rounds.length, 'nothing after stop').toBe(1);
  });
});
