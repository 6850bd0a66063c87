import type { AttributedEventRow, UnitExposureRow } from '../output-rows.ts';
import type { TrackEvent } from '../unit-event.ts';
import type { UnitRef } from '../unit-message.ts';
import type { ExperimentExposure } from './experiment-exposure.ts';
import type { AttributionMode, UnitContent } from './unit-state.ts';

/** The rows a unit asserts, as a set (no two rows are identical). */
export interface DerivedRows {
  exposures: UnitExposureRow[];
  attributed: AttributedEventRow[];
}

/** No rows: what a merged unit, or a unit with no event, asserts. */
export const NO_ROWS: DerivedRows = { exposures: [], attributed: [] };

/**
 * The rows a unit's content implies, by semantics.md: one exposure row per experiment, and one
 * attributed row per (track, experiment) that `countsFor`. A pure function of content and mode,
 * which is what lets the unit stage emit corrections as a diff of two derivations.
 * Cost O(tracks × experiments).
 */
export function deriveRows(ref: UnitRef, content: UnitContent, mode: AttributionMode): DerivedRows {
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
  return { exposures, attributed };
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
