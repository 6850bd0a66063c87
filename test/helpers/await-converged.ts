/**
 * Convergence of an eventually consistent pipeline, as the end-to-end tests judge it: equal to the
 * reference and staying equal. After the first match the figures are read again for
 * CONVERGENCE_HOLD_MS; a late correction (a retraction, a double count) restarts the wait.
 */
export const CONVERGENCE_HOLD_MS = 3_000;

/**
 * Polls `differencesNow` (empty when actual equals expected) until it has stayed empty for `holdMs`
 * (CONVERGENCE_HOLD_MS) or `deadline` (unix ms) passes; returns what differed last (empty: converged).
 */
export async function awaitConverged(
  differencesNow: () => Promise<string[]>,
  deadline: number,
  holdMs = CONVERGENCE_HOLD_MS,
  pollMs = { equal: 500, differing: 1_000 },
): Promise<string[]> {
  let equalSince: number | null = null;
  let differences: string[] = ['not queried yet'];
  do {
    differences = await differencesNow();
    if (differences.length > 0) equalSince = null;
    else equalSince ??= Date.now();
    if (equalSince !== null && Date.now() - equalSince >= holdMs) return [];
    await new Promise((r) => setTimeout(r, differences.length === 0 ? pollMs.equal : pollMs.differing));
  } while (Date.now() < deadline);
  return differences.length > 0 || equalSince === null
    ? differences
    : [`equal for only ${Date.now() - equalSince} ms before the deadline`];
}
