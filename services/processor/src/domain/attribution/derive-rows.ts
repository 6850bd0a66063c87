import type { AttributedEventRow, CovariateEventRow, UnitExposureRow } from '../output-rows.ts';
import type { TrackEvent } from '../unit-event.ts';
import type { UnitRef } from '../unit-message.ts';
import { NO_COVARIATES, isNoCovariates, type CovariateLookback } from './covariate-lookback.ts';
import type { ExperimentExposure } from './experiment-exposure.ts';
import type { AttributionMode, UnitContent } from './unit-state.ts';

/** The rows a unit asserts, as a set (no two rows are identical). */
export interface DerivedRows {
  exposures: UnitExposureRow[];
  attributed: AttributedEventRow[];
  covariates: CovariateEventRow[];
}

/** No rows: what a merged unit, or a unit with no event, asserts. */
export const NO_ROWS: DerivedRows = { exposures: [], attributed: [], covariates: [] };

/**
 * The rows a unit's content implies, by semantics.md: one exposure row per experiment, one
 * attributed row per (track, experiment) that `countsFor`, and one covariate row per (track,
 * experiment) that `feedsCovariate` under `lookback`. A pure function of content, mode and lookback,
 * which is what lets the unit stage emit corrections as a diff of two derivations.
 * Cost O(tracks × experiments).
 */
export function deriveRows(
  ref: UnitRef,
  content: UnitContent,
  mode: AttributionMode,
  lookback: CovariateLookback = NO_COVARIATES,
): DerivedRows {
  const { project, unit } = ref;
  const exposures = content.exposures.map((x) => ({
    project,
    experiment: x.experiment,
    unit,
    variation: x.variation,
    first_exposure_at: x.first_exposure_at,
    multiple_exposure: x.multiple_exposure,
    dimensions: x.dimensions,
  }));
  const attributed: AttributedEventRow[] = [];
  for (const t of content.tracks) {
    for (const x of content.exposures) {
      if (!countsFor(t, x, mode)) continue;
      attributed.push({
        project,
        experiment: x.experiment,
        unit,
        variation: x.variation,
        event_id: t.event_id,
        event: t.event,
        timestamp: t.timestamp,
        weight: t.weight,
        value: t.value,
      });
    }
  }
  return { exposures, attributed, covariates: deriveCovariates(ref, content, lookback) };
}

function deriveCovariates(
  ref: UnitRef,
  content: UnitContent,
  lookback: CovariateLookback,
): CovariateEventRow[] {
  if (isNoCovariates(lookback)) return [];
  const out: CovariateEventRow[] = [];
  for (const t of content.tracks) {
    const ms = lookback[t.event];
    if (ms === undefined) continue;
    for (const x of content.exposures) {
      if (!feedsCovariate(t, x, ms)) continue;
      out.push({
        project: ref.project,
        experiment: x.experiment,
        unit: ref.unit,
        variation: x.variation,
        first_exposure_at: x.first_exposure_at,
        event_id: t.event_id,
        event: t.event,
        timestamp: t.timestamp,
        weight: t.weight,
        value: t.value,
      });
    }
  }
  return out;
}

/**
 * Whether track `t` feeds the covariate of the experiment summarised by `x`: the unit is analysed and
 * `first_exposure − lookbackMs ≤ t < first_exposure`. The attribution mode plays no part: an event before
 * the exposure cannot have been caused by it, whatever decision it names.
 */
export function feedsCovariate(t: TrackEvent, x: ExperimentExposure, lookbackMs: number): boolean {
  return (
    !x.multiple_exposure &&
    t.timestamp < x.first_exposure_at &&
    t.timestamp >= x.first_exposure_at - lookbackMs
  );
}

/**
 * Whether track `t` counts for the experiment summarised by `x`: the unit is analysed (not
 * multiple-exposure), `t` is at or after the first exposure, and in `decision` mode a track with
 * a decision_id names a decision some exposure to this experiment carried (without one it falls
 * back to the cumulative rule).
 */
export function countsFor(t: TrackEvent, x: ExperimentExposure, mode: AttributionMode): boolean {
  if (x.multiple_exposure || t.timestamp < x.first_exposure_at) return false;
  if (mode === 'decision' && t.decision_id !== null) return x.decision_ids.includes(t.decision_id);
  return true;
}
