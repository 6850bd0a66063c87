import { describe, expect, it } from 'vitest';
import { startWithBackoff } from '../../../shared/retry/start-with-backoff.ts';

const policy = { initialMs: 1, maxMs: 4 };

describe('startWithBackoff', () => {
  it('retries a failing start with growing delays until it works, reporting each failure', async () => {
    const failures: Array<[string, number, number]> = [];
    let calls = 0;
    const started = await startWithBackoff({
      start: async () => {
        calls += 1;
        if (calls < 4) throw new Error(`down ${calls}`);
      },
      stopped: () => false,
      policy,
      onFailure: async (err, attempt, retryInMs) => {
        failures.push([(err as Error).message, attempt, retryInMs]);
      },
    });
    expect(started).toBe(true);
    expect(calls).toBe(4);
    expect(failures.map(([m, a]) => [m, a])).toEqual([
      ['down 1', 1],
      ['down 2', 2],
      ['down 3', 3],
    ]);
    // Capped exponential with jitter in [delay/2, delay]: 1, 2, 4 ms.
    for (const [, attempt, delay] of failures) {
      const full = Math.min(4, 2 ** (attempt - 1));
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    }
  });

  it('ends without reporting when the start fails because the owner stopped', async () => {
    let stopping = false;
    const failures: unknown[] = [];
    class Stopped extends Error {}
    const started = await startWithBackoff({
      start: async () => {
        stopping = true;
        throw new Stopped();
      },
      stopped: () => stopping,
      isStop: (err) => err instanceof Stopped,
      policy,
      onFailure: async (err) => {
        failures.push(err);
      },
    });
    expect(started).toBe(false);
    expect(failures).toEqual([]);
  });

  it('makes no attempt once stopped, and a stop during the backoff ends the wait', async () => {
    let calls = 0;
    let stopping = false;
    const begun = Date.now();
    const started = await startWithBackoff({
      start: async () => {
        calls += 1;
        throw new Error('down');
      },
      stopped: () => stopping,
      policy: { initialMs: 10_000, maxMs: 10_000 },
      onFailure: async () => {
        setTimeout(() => (stopping = true), 20);
      },
    });
    expect(started).toBe(false);
    expect(calls).toBe(1);
    expect(Date.now() - begun, 'the 5-10 s backoff was cut short').toBeLessThan(2_000);
  });
});
