/**
 * Capped exponential backoff, the one retry policy of the services: the sink's retries of ClickHouse
 * inserts (and its start-up), the stats service's stores and webhooks, the gateway's start-up and schema
 * registration, local mode's restarts of a service that died.
 */

export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Largest delay between two attempts, ms. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): initialMs·2^(attempt−1) capped at maxMs, then
 * drawn in [delay/2, delay] so that several sinks do not retry in lockstep against a recovering server.
 * @param random uniform in [0, 1) (injectable for tests); `() => 1` gives the full delay, no jitter
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** `random` for backoffDelayMs that always draws the full delay: no jitter. */
export const fullDelay = (): number => 1;
