import { describe, expect, it } from 'vitest';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';

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
