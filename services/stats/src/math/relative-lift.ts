import type { ConfidenceInterval } from './types.ts';
import { twoSidedCriticalValue } from './normal.ts';
import type { ProportionSample } from './two-proportion-z-test.ts';

/**
 * Relative lift `treatment / control − 1` of any per-unit figure (conversion rate, value per unit).
 *
 * Null rules: either figure is null, or the control figure is 0 (the ratio is undefined; a
 * negative control, e.g. net of refunds, is allowed and keeps the arithmetic sign).
 */
export function relativeLift(treatment: number | null, control: number | null): number | null {
  if (treatment === null || control === null || control === 0) return null;
  const lift = treatment / control - 1;
  return Number.isFinite(lift) ? lift : null;
}

/**
 * Confidence interval of the conversion-rate lift by the delta method:
 * lift ± z·SE with SE² = v_t/r_c² + r_t²·v_c/r_c⁴ and v = r(1 − r)/n per arm, z the two-sided
 * normal quantile of `confidence`.
 *
 * Null rules: either arm has no units, or the control rate is 0 (the lift itself is undefined).
 * When both rates are 0 or 1 the formula's SE is 0 and the interval is the point `[lift, lift]`;
 * that is what the definition gives, so it is returned rather than invented away.
 * @param confidence in (0, 1), e.g. 0.95
 */
export function liftConfidenceInterval(
  treatment: ProportionSample,
  control: ProportionSample,
  confidence: number,
): ConfidenceInterval | null {
  if (!(treatment.units > 0 && control.units > 0)) return null;
  const rateT = treatment.conversions / treatment.units;
  const rateC = control.conversions / control.units;
  const lift = relativeLift(rateT, rateC);
  if (lift === null) return null;
  const varianceT = (rateT * (1 - rateT)) / treatment.units;
  const varianceC = (rateC * (1 - rateC)) / control.units;
  const rateC2 = rateC * rateC;
  const se = Math.sqrt(varianceT / rateC2 + (rateT * rateT * varianceC) / (rateC2 * rateC2));
  const halfWidth = twoSidedCriticalValue(confidence) * se;
  return [lift - halfWidth, lift + halfWidth];
}
