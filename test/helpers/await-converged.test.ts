import { describe, expect, it } from 'vitest';
import { awaitConverged } from './await-converged.ts';

/** Answers the given differences one poll after another, then the last one forever. */
function answers(...sequence: string[][]): { next: () => Promise<string[]>; polls: () => number } {
  let i = 0;
  return {
    next: async () => sequence[Math.min(i++, sequence.length - 1)] as string[],
    polls: () => i,
  };
}

const fast = { equal: 10, differing: 10 };

describe('awaitConverged', () => {
  it('does not call a momentary match convergence: a later difference restarts the wait', async () => {
    // Equal once, then a late double count shows up and stays.
    const seq = answers(['no results yet'], [], ['treatment.conversions: 121 vs 120']);
    const left = await awaitConverged(seq.next, Date.now() + 300, 100, fast);
    expect(left).toEqual(['treatment.conversions: 121 vs 120']);
  });

  it('converges once the figures stay equal for the hold time', async () => {
    const seq = answers(['no results yet'], ['stats 503'], []);
    const started = Date.now();
    expect(await awaitConverged(seq.next, started + 5_000, 100, fast)).toEqual([]);
    expect(Date.now() - started, 'waited out the hold').toBeGreaterThanOrEqual(100);
    expect(seq.polls(), 'kept reading after the first match').toBeGreaterThan(4);
  });

  it('says so when the deadline cuts the hold short', async () => {
    const seq = answers(['no results yet'], []);
    const left = await awaitConverged(seq.next, Date.now() + 80, 10_000, fast);
    expect(left[0]).toMatch(/^equal for only \d+ ms before the deadline$/);
  });
});
