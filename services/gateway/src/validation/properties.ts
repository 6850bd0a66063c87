/**
 * Track event `properties`: a flat map of string, number or boolean, at most PROPERTIES_MAX_BYTES
 * serialised.
 *
 * Rules beyond the semantics page, and why:
 * - null or absent `properties` means {}; a property whose value is null is left out with a
 *   `null_property` warning (null means absent everywhere in this gateway; the Avro map has no null);
 * - keys follow the id rules with a 128 code-unit limit (non-blank, no control characters, no
 *   e-mail address) and '__proto__' is refused: decoders that build maps with `obj[key] = v`
 *   (avsc included) would replace the map's prototype;
 * - string values may be empty and may hold newlines (free text); unpaired surrogates are refused
 *   (not encodable as UTF-8) and so are e-mail addresses (personal data);
 * - numbers must be finite (the wire carries doubles; JSON cannot carry NaN back out).
 * The size is measured on the normalised map (what is forwarded), as UTF-8 bytes of its JSON.
 * The result is a null-prototype object: no key can reach Object.prototype.
 */
import type { PropertyValue } from './normalized-event.ts';
import { reject } from './errors.ts';
import type { Rejection, Warning } from './errors.ts';
import { containsEmail } from './email.ts';
import { childPath, describeValue, jsonTypeOf } from './json-path.ts';
import { KEY_MAX_LENGTH, checkIdString, hasLoneSurrogate } from './string-rules.ts';

/** Limit of the serialised properties, in UTF-8 bytes of their JSON (4 KB). */
export const PROPERTIES_MAX_BYTES = 4096;

/**
 * Checks a key of a flat map (`mapName` is 'properties' or 'context'). Returns the rejection or
 * undefined. Over-long and e-mail keys are reported on the map, not on a path that would echo them.
 */
export function checkMapKey(key: string, mapName: string): Rejection | undefined {
  if (key === '__proto__') {
    return reject('invalid_properties', childPath(mapName, key), `${mapName} key '__proto__' is not allowed`);
  }
  if (key.length > KEY_MAX_LENGTH) {
    return reject(
      'field_too_long',
      mapName,
      `${mapName} key ${describeValue(key)} is ${key.length} characters long; the limit is ${KEY_MAX_LENGTH}`,
    );
  }
  if (containsEmail(key)) {
    return reject(
      'pii_email',
      mapName,
      `a ${mapName} key looks like an e-mail address, which is personal data`,
    );
  }
  return checkIdString(key, childPath(mapName, key), `${mapName} key ${JSON.stringify(key)}`, KEY_MAX_LENGTH);
}

/**
 * Reads `properties`; warnings (null values left out) are pushed onto `warnings`.
 * Returns the normalised null-prototype map or the first rejection.
 */
export function readProperties(
  value: unknown,
  warnings: Warning[],
): Record<string, PropertyValue> | Rejection {
  const out = Object.create(null) as Record<string, PropertyValue>;
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) {
    return reject('invalid_type', 'properties', `properties must be an object, got ${jsonTypeOf(value)}`);
  }
  const raw = value as Record<string, unknown>;
  let count = 0;
  for (const key of Object.keys(raw)) {
    const keyProblem = checkMapKey(key, 'properties');
    if (keyProblem !== undefined) return keyProblem;
    const v = raw[key];
    if (typeof v === 'string') {
      // Paths are built on failure paths only: the happy path allocates nothing per key.
      if (hasLoneSurrogate(v)) {
        const field = childPath('properties', key);
        return reject('invalid_characters', field, `${field} must not contain unpaired UTF-16 surrogates`);
      }
      if (containsEmail(v)) {
        const field = childPath('properties', key);
        return reject('pii_email', field, `${field} looks like an e-mail address, which is personal data`);
      }
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        const field = childPath('properties', key);
        return reject('invalid_properties', field, `${field} must be a finite number, got ${v}`);
      }
    } else if (v === null) {
      const field = childPath('properties', key);
      warnings.push({
        code: 'null_property',
        field,
        message: `${field} is null and was left out (null means absent)`,
      });
      continue;
    } else if (typeof v === 'object') {
      const field = childPath('properties', key);
      return reject(
        'nested_property',
        field,
        `${field} is ${jsonTypeOf(v) === 'array' ? 'an array' : 'an object'}; properties must be flat (string, number or boolean values)`,
      );
    } else if (typeof v !== 'boolean') {
      const field = childPath('properties', key);
      return reject(
        'invalid_type',
        field,
        `${field} must be a string, number or boolean, got ${jsonTypeOf(v)}`,
      );
    }
    out[key] = v;
    count++;
  }
  if (count > 0) {
    const bytes = Buffer.byteLength(JSON.stringify(out), 'utf8');
    if (bytes > PROPERTIES_MAX_BYTES) {
      return reject(
        'properties_too_large',
        'properties',
        `properties serialise to ${bytes} bytes of JSON; the limit is ${PROPERTIES_MAX_BYTES}`,
      );
    }
  }
  return out;
}
