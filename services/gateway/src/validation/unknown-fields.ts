/**
 * Top-level fields each event type defines, and warnings for the others.
 *
 * Unknown top-level fields are ignored with an `unknown_field` warning rather than rejected: newer
 * SDKs may send fields this gateway does not know yet (forward compatibility), and nothing we do
 * not forward can hurt the analysis. The same holds for a known field sent on the wrong type
 * (`value` on an exposure, `context` on an alias: the semantics page gives alias no context).
 */
import type { EventKind } from './normalized-event.ts';
import type { Warning } from './errors.ts';
import { childPath, describeValue } from './json-path.ts';

const COMMON = ['type', 'timestamp', 'message_id', 'user_id', 'anonymous_id'];

/** The top-level fields of each event type. */
export const FIELDS_BY_KIND: Readonly<Record<EventKind, ReadonlySet<string>>> = {
  exposure: new Set([...COMMON, 'experiment', 'variation', 'decision_id', 'properties', 'context']),
  track: new Set([...COMMON, 'event', 'value', 'properties', 'decision_id', 'sample', 'context']),
  alias: new Set(COMMON),
};

const ALL_FIELDS: ReadonlySet<string> = new Set(Object.values(FIELDS_BY_KIND).flatMap((s) => [...s]));

// Keys longer than this are shown truncated: a warning must not echo kilobytes back.
const SHOWN_KEY_LENGTH = 128;

function unknownFieldWarning(key: string, kind: EventKind): Warning {
  if (key.length > SHOWN_KEY_LENGTH) {
    return {
      code: 'unknown_field',
      field: '',
      message: `field ${describeValue(key)} is not a known field; ignored`,
    };
  }
  const field = childPath('', key);
  if (ALL_FIELDS.has(key)) {
    return {
      code: 'unknown_field',
      field,
      message: `${field} is a field of other event types, not of ${kind} events; ignored`,
    };
  }
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const hint =
    snake !== key && FIELDS_BY_KIND[kind].has(snake)
      ? ` (field names are snake_case: did you mean '${snake}'?)`
      : ' (forward compatibility)';
  return {
    code: 'unknown_field',
    field,
    message: `${field} is not a known field of ${kind} events; ignored${hint}`,
  };
}

/** Pushes an `unknown_field` warning for each own top-level field `kind` does not define. */
export function warnUnknownFields(
  event: Record<string, unknown>,
  kind: EventKind,
  warnings: Warning[],
): void {
  const known = FIELDS_BY_KIND[kind];
  for (const key in event) {
    if (!known.has(key) && Object.hasOwn(event, key)) {
      warnings.push(unknownFieldWarning(key, kind));
    }
  }
}

/** Hint for a missing id when the producer sent it camelCased (userId for user_id); '' otherwise. */
export function camelCaseHint(event: Record<string, unknown>, field: string): string {
  const camel = field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return Object.hasOwn(event, camel) ? ` (found '${camel}': field names are snake_case)` : '';
}
