import {
  decodeVersioned,
  encodeVersioned,
  isFiniteNumber,
  isNullableString,
  isRecord,
} from '../versioned-json.ts';
import type { Decoded } from '../versioned-json.ts';
import type { IdentityState } from './identity-state.ts';

const STORE = 'identity-state';
const VERSION = 1;

/** The identity store's changelog value (JSON, versioned). */
export function serializeIdentityState(state: IdentityState): string {
  return encodeVersioned(VERSION, state);
}

/** Reads `serializeIdentityState`'s output; an unknown version or shape is an error value. */
export function deserializeIdentityState(json: string): Decoded<IdentityState> {
  return decodeVersioned(STORE, VERSION, json, isIdentityState);
}

function isIdentityState(value: unknown): value is IdentityState {
  return (
    isRecord(value) &&
    isNullableString(value.aliasTo) &&
    isRecord(value.seen) &&
    Object.values(value.seen).every(isFiniteNumber)
  );
}
