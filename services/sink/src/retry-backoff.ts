/** Capped exponential backoff for retrying ClickHouse inserts (and the sink's start-up). */

export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** Largest delay between two attempts, ms. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): initialMs·2^(attempt−1) capped at maxMs, then
 * drawn in [delay/2, delay] so that several sinks do not retry in lockstep against a recovering server.
 * @param random uniform in [0, 1) (injectable for tests)
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

/**
 * Waits `ms` in slices of at most `sliceMs`, calling `beat` after each slice, and stops early when
 * `keepGoing` turns false. Returns whether the whole wait elapsed. kafkajs consumers must heartbeat
 * while a batch is being retried, or the group evicts them and hands their partitions to someone else.
 */
export async function waitWithHeartbeat(
  ms: number,
  beat: () => Promise<void>,
  keepGoing: () => boolean,
  sliceMs = 1_000,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!keepGoing()) return false;
    const left = deadline - Date.now();
    if (left <= 0) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, sliceMs)));
    await beat();
  }
}
