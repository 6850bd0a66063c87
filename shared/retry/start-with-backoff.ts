import { backoffDelayMs, type BackoffPolicy } from './capped-backoff.ts';
import { waitWithHeartbeat } from './wait-with-heartbeat.ts';

export interface StartWithBackoffOptions {
  /** One attempt to start (connect, wait for topics, join the group). */
  start(): Promise<void>;
  /** True once the owner is stopping: no further attempt, and the backoff wait ends early. */
  stopped(): boolean;
  /** The error a start throws because it saw the owner stopping (not a failure to report). */
  isStop?(err: unknown): boolean;
  policy: BackoffPolicy;
  /** A failed attempt, before its backoff: release what it opened, log, count. */
  onFailure(err: unknown, attempt: number, retryInMs: number): Promise<void>;
}

/**
 * Keeps trying `start` with capped exponential backoff (Kafka down or topics missing at start) until it
 * works or the owner stops. True when it started; false when it stopped first.
 */
export async function startWithBackoff(opts: StartWithBackoffOptions): Promise<boolean> {
  for (let attempt = 1; !opts.stopped(); attempt++) {
    try {
      await opts.start();
      return true;
    } catch (err) {
      if (opts.stopped() || opts.isStop?.(err) === true) return false;
      const delay = backoffDelayMs(attempt, opts.policy);
      await opts.onFailure(err, attempt, delay);
      await waitWithHeartbeat(
        delay,
        async () => undefined,
        () => !opts.stopped(),
        250,
      );
    }
  }
  return false;
}
