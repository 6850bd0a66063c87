/**
 * Validation of one producer event: the rules of the "Events" section of the semantics brief, as a
 * pure function from the parsed JSON to a verdict (accepted with a normalised event, rejected with
 * a code, or dropped as a bot). Never throws on any JSON input.
 *
 * Rules are checked in this order and the first one broken decides the rejection:
 * event is an object -> bot user agent (dropped, whatever else is wrong) -> type -> user_id,
 * anonymous_id and identity -> timestamp -> message_id -> type-specific fields (exposure:
 * experiment, variation, decision_id, properties; track: event, value, properties, decision_id,
 * sample) ->
 * context -> event definition (track, when its enforcement is 'reject').
 * Null and absent are the same for every field. Per-field rules live in the modules imported below.
 */
import type { DropReason, Rejection, Warning } from './errors.ts';
import { isRejection, reject } from './errors.ts';
import type { EventDefinitions } from './event-definitions.ts';
import type { EventKind, NormalizedEvent } from './normalized-event.ts';
import { isBotUserAgent, rawUserAgent } from './bot.ts';
import { readContext } from './context.ts';
import { checkAgainstDefinition } from './definition-check.ts';
import { readEventName } from './event-name.ts';
import { readKind, readRequiredId, readSample, readValue } from './event-fields.ts';
import { describeValue, jsonTypeOf } from './json-path.ts';
import { readProperties } from './properties.ts';
import { readOptionalId } from './string-rules.ts';
import { readTimestamp } from './timestamp.ts';
import { camelCaseHint, warnUnknownFields } from './unknown-fields.ts';

/** Default clock-skew allowance: events up to 5 minutes in the future are accepted. */
export const DEFAULT_MAX_FUTURE_MS = 5 * 60 * 1000;
/** Default backfill window: events up to 30 days old are accepted. */
export const DEFAULT_BACKFILL_MS = 30 * 24 * 60 * 60 * 1000;

/** Everything validation needs besides the event; one per request, shared by its events. */
export interface ValidationContext {
  /** Project of the write key (not checked here; carried for callers and messages). */
  readonly project: string;
  /** When the gateway received the request, unix ms; the timestamp of events that carry none. */
  readonly receivedAt: number;
  /** How far after receivedAt an event timestamp may be, ms (DEFAULT_MAX_FUTURE_MS). */
  readonly maxFutureMs: number;
  /** How far before receivedAt an event timestamp may be, ms (DEFAULT_BACKFILL_MS). */
  readonly backfillMs: number;
  readonly definitions: EventDefinitions;
  /** Set by kind-specific endpoints (/v1/track, ...): `type` may then be omitted, else must match. */
  readonly kindHint?: EventKind;
}

/** Builds a context with the documented defaults for anything not given. */
export function createValidationContext(init: {
  project: string;
  receivedAt: number;
  definitions: EventDefinitions;
  maxFutureMs?: number;
  backfillMs?: number;
  kindHint?: EventKind;
}): ValidationContext {
  const ctx: ValidationContext = {
    project: init.project,
    receivedAt: init.receivedAt,
    maxFutureMs: init.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    backfillMs: init.backfillMs ?? DEFAULT_BACKFILL_MS,
    definitions: init.definitions,
  };
  return init.kindHint === undefined ? ctx : { ...ctx, kindHint: init.kindHint };
}

/** The event passed: forward `event`; report `warnings` to the producer. */
export interface AcceptedVerdict {
  readonly status: 'accepted';
  readonly event: NormalizedEvent;
  readonly warnings: Warning[];
  /** The track event name when it has no definition (discovered), for the caller to count; else null. */
  readonly undefinedEvent: string | null;
}

/** The event is discarded without blame (counted, never analysed). */
export interface DroppedVerdict {
  readonly status: 'dropped';
  readonly reason: DropReason;
  readonly field: string;
  readonly message: string;
}

/** A rejected event: see errors.ts for the codes. */
export type RejectedVerdict = Rejection;

export type EventVerdict = AcceptedVerdict | RejectedVerdict | DroppedVerdict;

function accepted(
  event: NormalizedEvent,
  warnings: Warning[],
  undefinedEvent: string | null,
): AcceptedVerdict {
  return { status: 'accepted', event, warnings, undefinedEvent };
}

function missingAliasId(input: Record<string, unknown>, field: 'anonymous_id' | 'user_id'): Rejection {
  return reject(
    'missing_field',
    field,
    `${field} is required for alias events, which link an anonymous_id to a user_id${camelCaseHint(input, field)}`,
  );
}

/** Validates and normalises one producer event (any JSON value). */
export function validateEvent(raw: unknown, ctx: ValidationContext): EventVerdict {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return reject('invalid_type', '', `each event must be a JSON object, got ${jsonTypeOf(raw)}`);
  }
  const input = raw as Record<string, unknown>;

  const userAgent = rawUserAgent(input);
  if (userAgent !== undefined && isBotUserAgent(userAgent)) {
    return {
      status: 'dropped',
      reason: 'bot',
      field: 'context.user_agent',
      message: `context.user_agent ${describeValue(userAgent)} is a known bot; event dropped`,
    };
  }

  const kind = readKind(input['type'], ctx.kindHint);
  if (isRejection(kind)) return kind;

  const userId = readOptionalId(input['user_id'], 'user_id');
  if (isRejection(userId)) return userId;
  const anonymousId = readOptionalId(input['anonymous_id'], 'anonymous_id');
  if (isRejection(anonymousId)) return anonymousId;
  if (kind === 'alias') {
    if (anonymousId === null) return missingAliasId(input, 'anonymous_id');
    if (userId === null) return missingAliasId(input, 'user_id');
    if (userId === anonymousId) {
      // The first alias of an anonymous id wins downstream: a self-alias would block the real one.
      return reject(
        'invalid_value',
        'user_id',
        'an alias must link two different ids; user_id equals anonymous_id',
      );
    }
  } else if (userId === null && anonymousId === null) {
    const hint = camelCaseHint(input, 'user_id') || camelCaseHint(input, 'anonymous_id');
    return reject('missing_identity', 'user_id', `${kind} events need a user_id or an anonymous_id${hint}`);
  }

  const timestamp = readTimestamp(input['timestamp'], ctx);
  if (isRejection(timestamp)) return timestamp;
  const messageId = readOptionalId(input['message_id'], 'message_id');
  if (isRejection(messageId)) return messageId;

  const warnings: Warning[] = [];
  if (kind === 'alias') {
    warnUnknownFields(input, kind, warnings);
    const event: NormalizedEvent = {
      kind,
      timestamp,
      message_id: messageId,
      user_id: userId,
      anonymous_id: anonymousId,
      body: {},
      context: Object.create(null) as Record<string, string>,
    };
    return accepted(event, warnings, null);
  }

  if (kind === 'exposure') {
    const experiment = readRequiredId(input['experiment'], 'experiment', kind);
    if (isRejection(experiment)) return experiment;
    const variation = readRequiredId(input['variation'], 'variation', kind);
    if (isRejection(variation)) return variation;
    const decisionId = readOptionalId(input['decision_id'], 'decision_id');
    if (isRejection(decisionId)) return decisionId;
    const properties = readProperties(input['properties'], warnings);
    if (isRejection(properties)) return properties;
    const context = readContext(input['context'], warnings);
    if (isRejection(context)) return context;
    warnUnknownFields(input, kind, warnings);
    const event: NormalizedEvent = {
      kind,
      timestamp,
      message_id: messageId,
      user_id: userId,
      anonymous_id: anonymousId,
      body: { experiment, variation, decision_id: decisionId, properties },
      context,
    };
    return accepted(event, warnings, null);
  }

  const name = readEventName(input['event']);
  if (isRejection(name)) return name;
  const value = readValue(input['value']);
  if (isRejection(value)) return value;
  const properties = readProperties(input['properties'], warnings);
  if (isRejection(properties)) return properties;
  const decisionId = readOptionalId(input['decision_id'], 'decision_id');
  if (isRejection(decisionId)) return decisionId;
  const sample = readSample(input['sample']);
  if (isRejection(sample)) return sample;
  const context = readContext(input['context'], warnings);
  if (isRejection(context)) return context;

  let undefinedEvent: string | null = null;
  const definition = ctx.definitions.events.get(name);
  if (definition === undefined) {
    undefinedEvent = name;
    warnings.push({
      code: 'undefined_event',
      field: 'event',
      message: `event '${name}' has no event definition; accepted and recorded as discovered`,
    });
  } else if (definition.schemaEnforcement !== 'off') {
    const violations = checkAgainstDefinition(definition, value, properties);
    const first = violations[0];
    if (first !== undefined && definition.schemaEnforcement === 'reject') {
      return reject('schema_violation', first.field, first.message);
    }
    for (const violation of violations) {
      warnings.push({ code: 'schema_violation', field: violation.field, message: violation.message });
    }
  }
  warnUnknownFields(input, kind, warnings);
  const event: NormalizedEvent = {
    kind,
    timestamp,
    message_id: messageId,
    user_id: userId,
    anonymous_id: anonymousId,
    body: { event: name, value, properties, decision_id: decisionId, sample },
    context,
  };
  return accepted(event, warnings, undefinedEvent);
}
