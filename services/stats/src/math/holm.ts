/**
 * Holm's step-down adjusted p-values, as statsmodels' `multipletests(p, method='holm')[1]`:
 * sort ascending, multiply the i-th smallest (0-based) by m − i, take the running maximum so the
 * adjusted values are monotone in the raw ones, cap at 1, and return them in the input order.
 * Ties get the same adjusted value whatever order they are sorted in.
 *
 * Every input must be a p-value in [0, 1]; callers drop undefined (null) p-values first, so m is
 * the number of tests that were actually made.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues
    .map((_, index) => index)
    .sort((a, b) => (pValues[a] as number) - (pValues[b] as number));
  const adjusted = new Array<number>(m);
  let runningMax = 0;
  order.forEach((inputIndex, rank) => {
    runningMax = Math.max(runningMax, (pValues[inputIndex] as number) * (m - rank));
    adjusted[inputIndex] = Math.min(runningMax, 1);
  });
  return adjusted;
}
