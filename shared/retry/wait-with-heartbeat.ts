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
