/**
 * Readers for the scalar fields of an event that need more than the id rules: `type`, `value`,
 * `sample`, and required ids. Each returns the normalised value or a rejection; null and absent
 * are the same everywhere (many SDKs serialise unset fields as null).
 */
import type { EventKind } from './normalized-event.ts';
import { reject } from './errors.ts';
import type { Rejection } from './errors.ts';
import { describeValue, jsonTypeOf } from './json-path.ts';
import { checkIdString } from './string-rules.ts';

/** Lowest sampling rate a producer may declare (weights stay at most 100). */
export const MIN_SAMPLE = 0.01;

/**
 * Reads `type`. With a kind hint (the endpoint is kind-specific, e.g. /v1/track) the field may be
 * omitted and must otherwise equal the hint; without one it is required.
 */
export function readKind(value: unknown, hint: EventKind | undefined): EventKind | Rejection {
  if (value === undefined || value === null) {
    return hint ?? reject('missing_field', 'type', "type is required: one of 'exposure', 'track', 'alias'");
  }
  if (typeof value !== 'string')
    return reject('invalid_type', 'type', `type must be a string, got ${jsonTypeOf(value)}`);
  if (value !== 'exposure' && value !== 'track' && value !== 'alias') {
    return reject(
      'invalid_kind',
      'type',
      `type must be one of 'exposure', 'track', 'alias', got ${describeValue(value)}`,
    );
  }
  if (hint !== undefined && value !== hint) {
    return reject(
      'kind_mismatch',
      'type',
      `type '${value}' was sent to the ${hint} endpoint, which only takes '${hint}'`,
    );
  }
  return value;
}

/** Reads an id-like field that `kind` requires (experiment, variation). */
export function readRequiredId(value: unknown, field: string, kind: EventKind): string | Rejection {
  if (value === undefined || value === null) {
    return reject('missing_field', field, `${field} is required for ${kind} events`);
  }
  if (typeof value !== 'string') {
    return reject('invalid_type', field, `${field} must be a string, got ${jsonTypeOf(value)}`);
  }
  return checkIdString(value, field, field) ?? value;
}

/** Reads the optional numeric `value` of a track event: a finite number, or null when absent. */
export function readValue(value: unknown): number | null | Rejection {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') {
    return reject(
      'invalid_type',
      'value',
      `value must be a number, got ${jsonTypeOf(value)} ${describeValue(value)}`,
    );
  }
  if (!Number.isFinite(value))
    return reject('invalid_value', 'value', `value must be a finite number, got ${value}`);
  return value;
}

/** Reads `sample`, the producer's sampling rate: MIN_SAMPLE <= sample <= 1, default 1. */
export function readSample(value: unknown): number | Rejection {
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number') {
    return reject(
      'invalid_type',
      'sample',
      `sample must be a number, got ${jsonTypeOf(value)} ${describeValue(value)}`,
    );
  }
  // Written as a negated range so NaN fails too.
  if (!(value >= MIN_SAMPLE && value <= 1)) {
    return reject(
      'invalid_sample',
      'sample',
      `sample must be between ${MIN_SAMPLE} and 1 inclusive, got ${value}`,
    );
  }
  return value;
}
