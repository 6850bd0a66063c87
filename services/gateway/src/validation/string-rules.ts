/**
 * Rules for the id-like strings of an event: user_id, anonymous_id, message_id, decision_id,
 * experiment, variation (and, with a shorter limit, property keys).
 *
 * - never trimmed or otherwise changed: ids are opaque and joined byte-for-byte with other systems,
 *   so ' u1' and 'u1' stay two ids; an empty or whitespace-only id is rejected instead;
 * - any Unicode is allowed (emoji, RTL, combining marks) except C0/C1 control characters and
 *   unpaired UTF-16 surrogates (they cannot be encoded as UTF-8 and would be silently replaced by
 *   U+FFFD on the wire, merging distinct ids);
 * - at most ID_MAX_LENGTH UTF-16 code units (cheap to measure; at most 3 UTF-8 bytes each);
 * - must not contain an e-mail address (personal data; see email.ts).
 */
import { containsEmail } from './email.ts';
import { reject } from './errors.ts';
import type { Rejection } from './errors.ts';
import { jsonTypeOf } from './json-path.ts';

/** Maximum length of ids, experiment and variation keys, in UTF-16 code units. */
export const ID_MAX_LENGTH = 256;
/** Maximum length of property and context keys, in UTF-16 code units. */
export const KEY_MAX_LENGTH = 128;

const NON_BLANK = /\S/;
// Control characters are the point of this pattern.
// eslint-disable-next-line no-control-regex
const CONTROL_OR_LONE_SURROGATE = /[\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]/u;
// With the u flag a well-formed surrogate pair is one code point, so this only matches lone halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** True when `text` holds an unpaired UTF-16 surrogate (not encodable as UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** True when `text` is empty or whitespace only. */
export function isBlank(text: string): boolean {
  return !NON_BLANK.test(text);
}

/**
 * Checks an id-like string; `what` names it in messages ('user_id', 'property key "a"').
 * Returns the rejection for the first rule broken, or undefined when the string is fine.
 */
export function checkIdString(
  text: string,
  field: string,
  what: string,
  maxLength: number = ID_MAX_LENGTH,
): Rejection | undefined {
  if (text.length > maxLength) {
    return reject(
      'field_too_long',
      field,
      `${what} is ${text.length} characters long; the limit is ${maxLength}`,
    );
  }
  if (isBlank(text)) return reject('empty_string', field, `${what} must not be empty or only whitespace`);
  if (CONTROL_OR_LONE_SURROGATE.test(text)) {
    return reject(
      'invalid_characters',
      field,
      `${what} must not contain control characters or unpaired UTF-16 surrogates`,
    );
  }
  if (containsEmail(text)) {
    return reject('pii_email', field, `${what} looks like an e-mail address, which is personal data`);
  }
  return undefined;
}

/**
 * Reads an optional id field: null and absent both mean "none" (null is what many SDKs send for
 * unset fields). Returns the string, null, or the rejection.
 */
export function readOptionalId(value: unknown, field: string): string | null | Rejection {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    return reject('invalid_type', field, `${field} must be a string, got ${jsonTypeOf(value)}`);
  }
  return checkIdString(value, field, field) ?? value;
}
