import type { TrackEvent, UnitEvent } from '../unit-event.ts';
import type { CovariateLookback } from './covariate-lookback.ts';
import { addExposures, exposureOf, type ExperimentExposure } from './experiment-exposure.ts';

/**
 * How track events are attributed, set per project (semantics.md, "Attribution"):
 * `cumulative` counts a track for every experiment the unit was exposed to by then; `decision`
 * restricts a track carrying a decision_id to the experiments whose exposures carry it.
 */
export type AttributionMode = 'cumulative' | 'decision';

/** The events a unit holds: what its rows are derived from and what a merge hands over. */
export interface UnitContent {
  /** One summary per experiment, sorted by experiment. */
  exposures: ExperimentExposure[];
  /** Track events, distinct by event_id, in arrival order. */
  tracks: TrackEvent[];
}

/** A unit that owns events. */
export interface LiveUnit {
  kind: 'live';
  /**
   * The mode the unit's currently asserted rows were derived with. Kept so that when a project
   * switches mode, the next update retracts exactly what was asserted before (re-deriving the
   * "before" rows in the new mode would retract rows that were never asserted).
   */
  mode: AttributionMode;
  /**
   * The CUPED lookback the unit's asserted covariate rows were derived with, kept for the same reason as
   * `mode`; absent when none (most projects), so their state is unchanged.
   */
  covariates?: CovariateLookback;
  content: UnitContent;
}

/**
 * A unit that was aliased into `mergedInto` (same project): it owns nothing and forwards what
 * still reaches it. Kept forever: it is tiny, and chained aliases route through it.
 */
export interface MergedUnit {
  kind: 'merged';
  mergedInto: string;
}

/** The unit store's value, keyed `<project>/<unit>`. Plain JSON. */
export type UnitState = LiveUnit | MergedUnit;

/** Content with no events. */
export const EMPTY_CONTENT: UnitContent = { exposures: [], tracks: [] };

/** The state of a unit never seen before. */
export function emptyUnitState(mode: AttributionMode = 'cumulative'): LiveUnit {
  return { kind: 'live', mode, content: EMPTY_CONTENT };
}

/** The content holding one event. */
export function contentOf(event: UnitEvent): UnitContent {
  return event.kind === 'exposure'
    ? { exposures: [exposureOf(event)], tracks: [] }
    : { exposures: [], tracks: [event] };
}

/** True when the content holds no event. */
export function isEmptyContent(content: UnitContent): boolean {
  return content.exposures.length === 0 && content.tracks.length === 0;
}

/**
 * Set union of two contents: exposures combined per experiment, tracks by event_id (the first
 * copy is kept; copies of one event_id are replays and identical). `replayedTracks` counts the
 * tracks of `more` that were already there. Cost O(|base| + |more|).
 */
export function unionContent(
  base: UnitContent,
  more: UnitContent,
): { content: UnitContent; replayedTracks: number } {
  const known = new Set(base.tracks.map((t) => t.event_id));
  const added = more.tracks.filter((t) => !known.has(t.event_id));
  return {
    content: {
      exposures: addExposures(base.exposures, more.exposures),
      tracks: added.length === 0 ? base.tracks : [...base.tracks, ...added],
    },
    replayedTracks: more.tracks.length - added.length,
  };
}
