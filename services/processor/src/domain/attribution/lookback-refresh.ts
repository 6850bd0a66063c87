import type { SignedRow } from '../output-rows.ts';
import type { UnitRef } from '../unit-message.ts';
import { isNoCovariates, NO_COVARIATES, sameLookback, type CovariateLookback } from './covariate-lookback.ts';
import { deriveRows } from './derive-rows.ts';
import { diffRows } from './row-diff.ts';
import type { LiveUnit, UnitState } from './unit-state.ts';

/**
 * A unit stored with a CUPED lookback other than its project's current one (a metric's `cuped` added, removed
 * or changed since its rows were derived): the diff that re-derives its covariate rows under the current
 * lookback, and the state remembering it. Null when nothing changes (merged units, same lookback).
 *
 * The unit stage applies the current lookback to a unit when its next message comes; the eviction sweep runs
 * this over every stored unit, so a catalogue change also reaches units that get no message. Without it, which
 * units carry the new covariate would depend on their post-exposure activity, which the treatment affects.
 * Only covariate rows can change: content and mode are the stored ones on both sides.
 */
export function refreshLookback(
  ref: UnitRef,
  state: UnitState,
  lookback: CovariateLookback,
): { state: LiveUnit; emits: SignedRow[] } | null {
  if (state.kind !== 'live') return null;
  const stored = state.covariates ?? NO_COVARIATES;
  if (sameLookback(stored, lookback)) return null;
  const emits = diffRows(
    deriveRows(ref, state.content, state.mode, stored),
    deriveRows(ref, state.content, state.mode, lookback),
  );
  const { covariates: _stored, ...rest } = state;
  return { state: isNoCovariates(lookback) ? rest : { ...rest, covariates: lookback }, emits };
}

/** `<project>/<unit>` (unitKey) → its parts; project ids never contain '/'. */
export function unitRefOf(key: string): UnitRef {
  const slash = key.indexOf('/');
  return { project: key.slice(0, slash), unit: key.slice(slash + 1) };
}
