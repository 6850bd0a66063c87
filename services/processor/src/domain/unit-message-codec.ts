import { isStringMap, isTrack, isUnitContent, upgradeContentV1 } from './attribution/unit-state-codec.ts';
import type { ExposureEvent, UnitEvent } from './unit-event.ts';
import type { UnitMessage } from './unit-message.ts';
import {
  decodeVersioned,
  encodeVersioned,
  isNullableString,
  isFiniteNumber,
  isRecord,
} from './versioned-json.ts';
import type { Decoded } from './versioned-json.ts';

const STORE = 'unit-message';
/**
 * 2: exposures (in event messages and in merge-in content) carry `dimensions`. Version 1, in the
 * topic when a build with version 2 starts, is still read: its exposures have `dimensions: {}`.
 */
const VERSION = 2;

/**
 * The repartition topic's record value (JSON, versioned like the state codecs). The topic is
 * internal, but instances of two builds share it during a rolling upgrade: a message written by a
 * newer build is an error value here, never half-read.
 */
export function serializeUnitMessage(message: UnitMessage): string {
  return encodeVersioned(VERSION, message);
}

/** Reads `serializeUnitMessage`'s output, version 1 included; an unknown version or shape is an error value. */
export function deserializeUnitMessage(json: string): Decoded<UnitMessage> {
  return decodeVersioned(STORE, VERSION, json, isUnitMessage, { 1: upgradeUnitMessageV1 });
}

function upgradeUnitMessageV1(message: unknown): unknown {
  if (!isRecord(message)) return message;
  if (message.type === 'merge-in') return { ...message, content: upgradeContentV1(message.content) };
  if (message.type === 'event' && isRecord(message.event) && message.event.kind === 'exposure') {
    return { ...message, event: { ...message.event, dimensions: {} } };
  }
  return message;
}

function isUnitMessage(value: unknown): value is UnitMessage {
  if (!isRecord(value) || typeof value.project !== 'string' || typeof value.unit !== 'string') return false;
  switch (value.type) {
    case 'event':
      return isUnitEvent(value.event) && isStringArray(value.via);
    case 'merge':
      return typeof value.into === 'string';
    case 'merge-in':
      return isUnitContent(value.content) && isStringArray(value.via);
    default:
      return false;
  }
}

function isUnitEvent(value: unknown): value is UnitEvent {
  return isRecord(value) && (value.kind === 'track' ? isTrack(value) : isExposureEvent(value));
}

function isExposureEvent(value: unknown): value is ExposureEvent {
  return (
    isRecord(value) &&
    value.kind === 'exposure' &&
    typeof value.event_id === 'string' &&
    isFiniteNumber(value.timestamp) &&
    typeof value.experiment === 'string' &&
    typeof value.variation === 'string' &&
    isNullableString(value.decision_id) &&
    isStringMap(value.dimensions)
  );
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
