import { describe, expect, it } from 'vitest';
import { backoffDelayMs, waitWithHeartbeat } from '../../../services/sink/src/retry-backoff.ts';

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

describe('waitWithHeartbeat', () => {
  it('heartbeats after every slice until the delay elapsed', async () => {
    let beats = 0;
    const done = await waitWithHeartbeat(
      55,
      async () => {
        beats += 1;
      },
      () => true,
      10,
    );
    expect(done, 'the full wait elapsed').toBe(true);
    expect(beats, 'one heartbeat per 10 ms slice').toBeGreaterThanOrEqual(5);
  });

  it('stops early, without finishing the wait, when asked to stop', async () => {
    let beats = 0;
    const started = Date.now();
    const done = await waitWithHeartbeat(
      5_000,
      async () => {
        beats += 1;
      },
      () => beats < 2,
      10,
    );
    expect(done, 'the wait was abandoned').toBe(false);
    expect(Date.now() - started, 'returned long before 5 s').toBeLessThan(1_000);
  });

  it('propagates a heartbeat failure (a rebalance) to the caller', async () => {
    await expect(
      waitWithHeartbeat(
        100,
        async () => {
          throw new Error('The group is rebalancing');
        },
        () => true,
        10,
      ),
    ).rejects.toThrow('rebalancing');
  });
});
