/**
 * Track event names: snake_case, `^[a-z][a-z0-9_]{0,127}$` (so at most 128 characters). Names
 * starting with '$' ($exposure, $alias, ...) are the system's own and refused from producers with
 * their own code, so a producer copying a system event sees why.
 */
import { reject } from './errors.ts';
import type { Rejection } from './errors.ts';
import { describeValue, jsonTypeOf } from './json-path.ts';

/** The event name rule. */
export const EVENT_NAME = /^[a-z][a-z0-9_]{0,127}$/;

/** Reads the required `event` field of a track event: the name, or the rejection. */
export function readEventName(value: unknown): string | Rejection {
  if (value === undefined || value === null) {
    return reject('missing_field', 'event', 'event (the event name) is required for track events');
  }
  if (typeof value !== 'string') {
    return reject('invalid_type', 'event', `event must be a string, got ${jsonTypeOf(value)}`);
  }
  if (value.startsWith('$')) {
    return reject(
      'reserved_event_name',
      'event',
      `event ${describeValue(value)} starts with '$', which is reserved for system events`,
    );
  }
  if (!EVENT_NAME.test(value)) {
    return reject(
      'invalid_event_name',
      'event',
      `event ${describeValue(value)} must be snake_case: a lower-case letter, then up to 127 lower-case letters, digits or '_'`,
    );
  }
  return value;
}
