import normalCdfAt from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantileAt from '@stdlib/stats-base-dists-normal-quantile';

/**
 * Standard normal quantile Φ⁻¹(p), as scipy's `norm.ppf`, to ~1e−15 relative for 1e−300 ≤ p < 1.
 *
 * stdlib evaluates √2·erfinv(2p − 1). That is exact enough for p ≥ 0.5 (all a two-sided critical
 * value needs), but 2p − 1 throws away the low digits of a small p: from p ≈ 1e−8 down it misses
 * scipy by more than 1e−9, and below 1.1e−16 it returns −∞. For p < 0.5 the estimate is therefore
 * polished by Newton steps on ln Φ(x) = ln p, with Φ from the tail-accurate erfc.
 * @param p probability in [0, 1]; 0 and 1 give ∓Infinity, outside that NaN (callers validate first).
 */
export function normalQuantile(p: number): number {
  const estimate = normalQuantileAt(p, 0, 1);
  if (!(p > 0 && p < 0.5)) return estimate;
  // Asymptotic start when erfinv has already collapsed to −∞.
  let x = Number.isFinite(estimate) ? estimate : -Math.sqrt(-2 * Math.log(p));
  const logP = Math.log(p);
  for (let i = 0; i < 100; i++) {
    const cdf = normalCdf(x);
    const density = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    const step = ((Math.log(cdf) - logP) * cdf) / density;
    if (!Number.isFinite(step)) break;
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return x;
}

/**
 * Standard normal CDF Φ(x). stdlib computes it as erfc(−x/√2)/2, so the lower tail keeps its
 * relative precision down to the smallest doubles (Φ(−37) ≈ 5.7e−300 rather than 0).
 */
export function normalCdf(x: number): number {
  return normalCdfAt(x, 0, 1);
}

/**
 * Two-sided p-value of a standard normal statistic: 2·Φ(−|z|), which is scipy's
 * `2 * norm.sf(abs(z))`. Written with the lower tail so that tiny p-values are not lost to
 * `1 − Φ(|z|)` cancellation. NaN in, NaN out (callers turn undefined statistics into null first).
 */
export function twoSidedNormalPValue(z: number): number {
  return 2 * normalCdf(-Math.abs(z));
}

/**
 * The z with P(|Z| ≤ z) = confidence, i.e. Φ⁻¹(1 − (1 − confidence)/2): 1.959963984540054 for 0.95.
 * @param confidence in (0, 1)
 */
export function twoSidedCriticalValue(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}
