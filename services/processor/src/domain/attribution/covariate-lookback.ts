/**
 * Which of a unit's track events feed CUPED covariates (docs/semantics.md, "Variance reduction"): per event
 * name, how far before the first exposure (ms) an event still counts. Derived from the project's metrics with
 * `cuped` (the longest `days` among the metrics on one event: each metric applies its own, shorter, window at
 * query time from the row's first_exposure_at). Plain JSON, because a live unit stores the lookback its
 * asserted rows were derived with, as it stores its attribution mode.
 */
export type CovariateLookback = Readonly<Record<string, number>>;

/** No metric with `cuped`: no covariate rows (the common case; costs nothing per event). */
export const NO_COVARIATES: CovariateLookback = Object.freeze({});

/** True when the lookback selects no event. */
export function isNoCovariates(lookback: CovariateLookback): boolean {
  return Object.keys(lookback).length === 0;
}

/** Equal lookbacks select exactly the same rows. */
export function sameLookback(a: CovariateLookback, b: CovariateLookback): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
