/**
 * The one catalogue of validation outcomes of the ingest gateway: every code a producer can see in a
 * rejection, a drop or a warning. Codes are stable API (producers and dashboards key on them); add new
 * ones, never rename. The HTTP layer maps outcomes to statuses; this file knows nothing of HTTP.
 *
 * `outcomes` says how a code can be used:
 * - `reject`: the event is refused and never reaches the ingest topic;
 * - `drop`: the event is discarded silently and counted (not the producer's fault, not analysed);
 * - `warn`: the event is accepted; the warning is reported back so the producer can fix its wiring.
 */
export const VALIDATION_CODES = {
  invalid_type: {
    outcomes: ['reject'],
    meaning: 'The event or one of its fields has the wrong JSON type (e.g. a number sent as a string).',
  },
  missing_field: {
    outcomes: ['reject'],
    meaning: 'A field required for this event type is absent or null.',
  },
  missing_identity: {
    outcomes: ['reject'],
    meaning: 'An exposure or track event carries neither user_id nor anonymous_id.',
  },
  invalid_kind: {
    outcomes: ['reject'],
    meaning: "The 'type' field is not one of exposure, track, alias.",
  },
  kind_mismatch: {
    outcomes: ['reject'],
    meaning: "The 'type' field contradicts the endpoint the event was sent to (e.g. an alias on /v1/track).",
  },
  empty_string: {
    outcomes: ['reject'],
    meaning: 'An id, name or property key is empty or only whitespace.',
  },
  field_too_long: {
    outcomes: ['reject'],
    meaning: 'A string is longer than its limit (ids 256, property keys 128 UTF-16 code units).',
  },
  invalid_characters: {
    outcomes: ['reject'],
    meaning: 'A string holds control characters (ids, keys) or unpaired UTF-16 surrogates (any string).',
  },
  invalid_event_name: {
    outcomes: ['reject'],
    meaning: 'The track event name is not snake_case: ^[a-z][a-z0-9_]{0,127}$.',
  },
  reserved_event_name: {
    outcomes: ['reject'],
    meaning: "The track event name starts with '$', which is reserved for system events ($exposure, ...).",
  },
  invalid_timestamp: {
    outcomes: ['reject'],
    meaning: 'The timestamp is neither non-negative unix milliseconds nor an ISO-8601 date-time with offset.',
  },
  timestamp_in_future: {
    outcomes: ['reject'],
    meaning: 'The timestamp is more than maxFutureMs (default 5 minutes) after the gateway received it.',
  },
  timestamp_too_old: {
    outcomes: ['reject'],
    meaning: 'The timestamp is more than backfillMs (default 30 days) before the gateway received it.',
  },
  invalid_value: {
    outcomes: ['reject'],
    meaning:
      "A field has the right type but a value it cannot take ('value' not finite, alias of an id to itself).",
  },
  invalid_properties: {
    outcomes: ['reject'],
    meaning: "A property key or value breaks the flat-map rules (non-finite number, '__proto__' key).",
  },
  nested_property: {
    outcomes: ['reject'],
    meaning: 'A property value is an object or an array; properties must be flat.',
  },
  properties_too_large: {
    outcomes: ['reject'],
    meaning: 'The properties, serialised as JSON, exceed 4096 UTF-8 bytes.',
  },
  invalid_sample: {
    outcomes: ['reject'],
    meaning: 'The sample rate is not a number in [0.01, 1].',
  },
  pii_email: {
    outcomes: ['reject'],
    meaning: 'An id, property key or property value contains an e-mail address (personal data).',
  },
  schema_violation: {
    outcomes: ['reject', 'warn'],
    meaning:
      "The event breaks its event definition (value type or property schema); rejected under schemaEnforcement 'reject', a warning under 'warn'.",
  },
  bot: {
    outcomes: ['drop'],
    meaning: 'context.user_agent is a known bot or crawler (isbot); dropped and counted, never analysed.',
  },
  unknown_field: {
    outcomes: ['warn'],
    meaning: 'A top-level field that this event type does not define was ignored (forward compatibility).',
  },
  undefined_event: {
    outcomes: ['warn'],
    meaning: 'The track event name has no event definition; accepted and reported as discovered.',
  },
  null_property: {
    outcomes: ['warn'],
    meaning: 'A property whose value was null was left out (null means absent).',
  },
  context_value_dropped: {
    outcomes: ['warn'],
    meaning: 'A context entry was left out: not a string, too long, bad key, or holding an e-mail address.',
  },
} as const satisfies Record<string, { outcomes: readonly Outcome[]; meaning: string }>;

/** How a code can end an event's validation. */
export type Outcome = 'reject' | 'drop' | 'warn';

/** Every code in the catalogue. */
export type ValidationCode = keyof typeof VALIDATION_CODES;

type CodesWith<O extends Outcome> = {
  [K in ValidationCode]: O extends (typeof VALIDATION_CODES)[K]['outcomes'][number] ? K : never;
}[ValidationCode];

/** Codes that refuse an event. */
export type RejectionCode = CodesWith<'reject'>;
/** Codes that discard an event silently (counted, not analysed). */
export type DropReason = CodesWith<'drop'>;
/** Codes reported alongside an accepted event. */
export type WarningCode = CodesWith<'warn'>;

function codesWith<O extends Outcome>(outcome: O): CodesWith<O>[] {
  return (Object.keys(VALIDATION_CODES) as ValidationCode[]).filter((code) =>
    (VALIDATION_CODES[code].outcomes as readonly Outcome[]).includes(outcome),
  ) as CodesWith<O>[];
}

/** All rejection codes, in catalogue order (for docs, metrics labels and exhaustive tests). */
export const REJECTION_CODES: readonly RejectionCode[] = codesWith('reject');
/** All drop reasons, in catalogue order. */
export const DROP_REASONS: readonly DropReason[] = codesWith('drop');
/** All warning codes, in catalogue order. */
export const WARNING_CODES: readonly WarningCode[] = codesWith('warn');

/**
 * Why an event was refused. `field` is a JSON path into the producer's event ('properties.plan',
 * 'properties["a.b"]'); '' is the event itself. `message` names the field and the rule broken.
 */
export interface Rejection {
  readonly status: 'rejected';
  readonly code: RejectionCode;
  readonly field: string;
  readonly message: string;
}

/** Something about an accepted event the producer should fix; `field` is a JSON path as in Rejection. */
export interface Warning {
  readonly code: WarningCode;
  readonly field: string;
  readonly message: string;
}

/**
 * Rejections are instances of this class so that helpers returning "a value or a rejection" can be
 * told apart with instanceof: a producer's properties map may well hold `status: 'rejected'`.
 */
class RejectionValue implements Rejection {
  readonly status = 'rejected' as const;
  readonly code: RejectionCode;
  readonly field: string;
  readonly message: string;
  constructor(code: RejectionCode, field: string, message: string) {
    this.code = code;
    this.field = field;
    this.message = message;
  }
}

/** Builds a rejection; the one place the shape is written. */
export function reject(code: RejectionCode, field: string, message: string): Rejection {
  return new RejectionValue(code, field, message);
}

/** True when a read* helper returned a rejection (built by `reject`) rather than a value. */
export function isRejection(value: unknown): value is Rejection {
  return value instanceof RejectionValue;
}
