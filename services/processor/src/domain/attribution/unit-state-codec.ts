import type { TrackEvent } from '../unit-event.ts';
import {
  decodeVersioned,
  encodeVersioned,
  isFiniteNumber,
  isNullableString,
  isRecord,
} from '../versioned-json.ts';
import type { Decoded } from '../versioned-json.ts';
import type { ExperimentExposure } from './experiment-exposure.ts';
import type { UnitContent, UnitState } from './unit-state.ts';

const STORE = 'unit-state';
/**
 * 2: exposure summaries carry `dimensions`. Version 1 (written before) is still read, each summary
 * with `dimensions: {}`; a build that reads only version 1 stops on version 2 instead of dropping
 * the values (its retractions would then lack the dimensions their assertions carried).
 * 3: a live unit carries `covariates`, the CUPED lookback its covariate rows were derived with. Written only
 * for units that have one, so projects without CUPED keep writing (and old builds keep reading) version 2.
 * A build that reads only up to version 2 stops on version 3 instead of rewriting the unit without the
 * lookback: it would then neither retract those rows nor remember them, and the next CUPED-aware build
 * would assert them a second time (a sign sum of 2). So a processor with a CUPED metric cannot be rolled
 * back, or run beside an older instance, silently.
 */
const VERSION = 3;
const VERSION_WITHOUT_COVARIATES = 2;

/** The unit store's changelog value (JSON, versioned): version 3 with a CUPED lookback, else version 2. */
export function serializeUnitState(state: UnitState): string {
  const version =
    state.kind === 'live' && state.covariates !== undefined ? VERSION : VERSION_WITHOUT_COVARIATES;
  return encodeVersioned(version, state);
}

/** Reads `serializeUnitState`'s output, versions 1 and 2 included; an unknown version or shape is an error value. */
export function deserializeUnitState(json: string): Decoded<UnitState> {
  return decodeVersioned(STORE, VERSION, json, isUnitState, {
    1: upgradeUnitStateV1,
    2: (state) => state,
  });
}

function upgradeUnitStateV1(state: unknown): unknown {
  return isRecord(state) && state.kind === 'live'
    ? { ...state, content: upgradeContentV1(state.content) }
    : state;
}

/**
 * Version-1 content (no dimensions) in the current shape: every exposure summary gains
 * `dimensions: {}`, i.e. no values, which is what the rows asserted from it carried. Anything that
 * is not the expected shape is left for the shape check to refuse.
 */
export function upgradeContentV1(content: unknown): unknown {
  if (!isRecord(content) || !Array.isArray(content.exposures)) return content;
  return {
    ...content,
    exposures: content.exposures.map((x: unknown) => (isRecord(x) ? { ...x, dimensions: {} } : x)),
  };
}

function isUnitState(value: unknown): value is UnitState {
  if (!isRecord(value)) return false;
  if (value.kind === 'merged') return typeof value.mergedInto === 'string';
  return (
    value.kind === 'live' &&
    (value.mode === 'cumulative' || value.mode === 'decision') &&
    (value.covariates === undefined || isLookback(value.covariates)) &&
    isUnitContent(value.content)
  );
}

/** A CUPED lookback: event name → ms (covariate-lookback.ts). */
function isLookback(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every((ms) => isFiniteNumber(ms) && ms > 0);
}

/** Shape check of a unit's content (also carried by merge-in messages on the repartition topic). */
export function isUnitContent(value: unknown): value is UnitContent {
  return (
    isRecord(value) &&
    Array.isArray(value.exposures) &&
    value.exposures.every(isExposure) &&
    Array.isArray(value.tracks) &&
    value.tracks.every(isTrack)
  );
}

function isExposure(value: unknown): value is ExperimentExposure {
  return (
    isRecord(value) &&
    typeof value.experiment === 'string' &&
    isFiniteNumber(value.first_exposure_at) &&
    typeof value.variation === 'string' &&
    typeof value.multiple_exposure === 'boolean' &&
    Array.isArray(value.decision_ids) &&
    value.decision_ids.every((d) => typeof d === 'string') &&
    isStringMap(value.dimensions)
  );
}

/** A map of string values (dimension values). */
export function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Shape check of a track event (stored in unit content, carried by event messages). */
export function isTrack(value: unknown): value is TrackEvent {
  return (
    isRecord(value) &&
    value.kind === 'track' &&
    typeof value.event_id === 'string' &&
    isFiniteNumber(value.timestamp) &&
    typeof value.event === 'string' &&
    (value.value === null || isFiniteNumber(value.value)) &&
    isFiniteNumber(value.weight) &&
    isNullableString(value.decision_id)
  );
}
