/**
 * Event `context`: the flat string map the wire carries (user_agent, locale, page, ...).
 *
 * Context is environment data filled in by SDKs, not analysed, and often richer than our wire
 * (nested screen sizes, numeric viewport widths). Rejecting a conversion because of it would lose
 * real data, so only a context that is not an object at all is rejected (`invalid_type`); each bad
 * entry is left out with a `context_value_dropped` warning instead:
 * - values that are not strings (numbers and booleans too: the wire map is string-only and we do
 *   not invent a rendering of them), null, objects, arrays;
 * - string values longer than CONTEXT_VALUE_MAX_LENGTH, with unpaired surrogates, or holding an
 *   e-mail address (personal data never reaches the topic; the value is not echoed);
 * - keys that break the property-key rules (blank, too long, control characters, e-mail, '__proto__').
 * Bot detection reads the producer's raw context before any of this (see bot.ts).
 */
import type { Warning } from './errors.ts';
import { reject } from './errors.ts';
import type { Rejection } from './errors.ts';
import { containsEmail } from './email.ts';
import { childPath, jsonTypeOf } from './json-path.ts';
import { checkMapKey } from './properties.ts';
import { hasLoneSurrogate } from './string-rules.ts';

/** Longest context value kept, in UTF-16 code units (user agents run to a few hundred). */
export const CONTEXT_VALUE_MAX_LENGTH = 1024;

function dropped(warnings: Warning[], field: string, why: string): void {
  warnings.push({ code: 'context_value_dropped', field, message: `${field} was left out: ${why}` });
}

/**
 * Reads `context`; absent or null means {}. Returns a null-prototype string map, or the rejection
 * when context is not an object. Left-out entries are reported on `warnings`.
 */
export function readContext(value: unknown, warnings: Warning[]): Record<string, string> | Rejection {
  const out = Object.create(null) as Record<string, string>;
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) {
    return reject('invalid_type', 'context', `context must be an object, got ${jsonTypeOf(value)}`);
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    const keyProblem = checkMapKey(key, 'context');
    if (keyProblem !== undefined) {
      warnings.push({
        code: 'context_value_dropped',
        field: keyProblem.field,
        message: `${keyProblem.message}; left out`,
      });
      continue;
    }
    const v = raw[key];
    if (typeof v !== 'string') {
      dropped(warnings, childPath('context', key), `context values must be strings, got ${jsonTypeOf(v)}`);
    } else if (v.length > CONTEXT_VALUE_MAX_LENGTH) {
      dropped(
        warnings,
        childPath('context', key),
        `${v.length} characters long; the limit is ${CONTEXT_VALUE_MAX_LENGTH}`,
      );
    } else if (hasLoneSurrogate(v)) {
      dropped(warnings, childPath('context', key), 'it contains unpaired UTF-16 surrogates');
    } else if (containsEmail(v)) {
      dropped(warnings, childPath('context', key), 'it looks like an e-mail address, which is personal data');
    } else {
      out[key] = v;
    }
  }
  return out;
}
