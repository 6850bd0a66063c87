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
const VERSION = 1;

/** The unit store's changelog value (JSON, versioned). */
export function serializeUnitState(state: UnitState): string {
  return encodeVersioned(VERSION, state);
}

/** Reads `serializeUnitState`'s output; an unknown version or shape is an error value. */
export function deserializeUnitState(json: string): Decoded<UnitState> {
  return decodeVersioned(STORE, VERSION, json, isUnitState);
}

function isUnitState(value: unknown): value is UnitState {
  if (!isRecord(value)) return false;
  if (value.kind === 'merged') return typeof value.mergedInto === 'string';
  return (
    value.kind === 'live' &&
    (value.mode === 'cumulative' || value.mode === 'decision') &&
    isUnitContent(value.content)
  );
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
    value.decision_ids.every((d) => typeof d === 'string')
  );
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
