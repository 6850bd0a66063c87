import { normalCdf } from './normal.ts';

/**
 * Upper tail P(X > x) of the chi-square distribution with an integer number of degrees of freedom,
 * as scipy's `chi2.sf(x, df)`.
 *
 * stdlib only ships the lower-tail CDF, and 1 − CDF loses all relative precision once the
 * p-value drops below ~1e−16 (a strong sample ratio mismatch on millions of units). For integer
 * df the survival function has a closed form made only of positive terms, so it is accurate in
 * every part of the range:
 * - even k: e^{−x/2} · Σ_{j<k/2} (x/2)^j / j!
 * - odd k:  2·Φ(−√x) + 2φ(√x) · Σ_{j=1}^{(k−1)/2} x^{j−½} / (1·3·…·(2j−1))
 * The terms are summed in log space, so a large x with many degrees of freedom neither overflows
 * nor underflows before it has to.
 *
 * @param x the statistic (≥ 0; negative x gives 1)
 * @param df degrees of freedom, a positive integer; anything else gives NaN
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (!Number.isInteger(df) || df < 1 || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const logX = Math.log(x);
  const logTerms: number[] = [];
  let head = 0;
  if (df % 2 === 0) {
    let logTerm = -x / 2;
    for (let j = 0; j < df / 2; j++) {
      if (j > 0) logTerm += logX - Math.LN2 - Math.log(j);
      logTerms.push(logTerm);
    }
  } else {
    head = 2 * normalCdf(-Math.sqrt(x));
    // 2φ(√x)·√x = √(2/π)·e^{−x/2}·x^{½}, then each further term gains x / (2j − 1).
    let logTerm = 0.5 * Math.log(2 / Math.PI) - x / 2 + 0.5 * logX;
    for (let j = 1; j <= (df - 1) / 2; j++) {
      if (j > 1) logTerm += logX - Math.log(2 * j - 1);
      logTerms.push(logTerm);
    }
  }
  if (logTerms.length === 0) return head;
  const maxLog = Math.max(...logTerms);
  let scaled = 0;
  for (const logTerm of logTerms) scaled += Math.exp(logTerm - maxLog);
  const survival = head + Math.exp(maxLog + Math.log(scaled));
  return Math.min(survival, 1);
}
