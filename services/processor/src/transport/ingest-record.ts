import type { IngestBody, IngestEvent, PropertyValue } from '../domain/ingest-event.ts';
import { isFiniteNumber, isRecord } from '../domain/versioned-json.ts';

/** An ingest record read back as the identity stage's input, or why it cannot be. */
export type IngestRead = { ok: true; event: IngestEvent } | { ok: false; reason: string };

/**
 * Maps an ingest record in avsc's in-memory form (`schemas/ingest-event.avsc`, decoded with its
 * writer schema) to the domain's `IngestEvent`. The `body` union arrives wrapped by the branch's
 * full name (`{ "io.liftstream.ingest.Track": {...} }`); the branch is recognised by its short
 * name so a namespace change in a later schema version still reads. A track's `properties` are
 * not used by attribution and are dropped; an exposure's `properties` and the `context` are kept
 * for dimensions, {} when the writer schema predates them. A record of the wrong shape (another
 * producer on the topic, a schema this build does not know) is a reason, never an exception.
 */
export function readIngestRecord(value: unknown): IngestRead {
  if (!isRecord(value)) return { ok: false, reason: 'not a record' };
  const { event_id, project, received_at, timestamp, message_id, user_id, anonymous_id } = value;
  if (typeof event_id !== 'string' || typeof project !== 'string') {
    return { ok: false, reason: 'event_id and project must be strings' };
  }
  if (typeof received_at !== 'number' || typeof timestamp !== 'number') {
    return { ok: false, reason: 'received_at and timestamp must be numbers (unix ms)' };
  }
  if (!isOptionalString(message_id) || !isOptionalString(user_id) || !isOptionalString(anonymous_id)) {
    return { ok: false, reason: 'message_id, user_id and anonymous_id must be strings or null' };
  }
  const body = readBody(value.body);
  if (typeof body === 'string') return { ok: false, reason: body };
  const context = value.context ?? {};
  if (!isMapOf(context, (v) => typeof v === 'string')) {
    return { ok: false, reason: 'context must be a map of strings' };
  }
  return {
    ok: true,
    event: {
      event_id,
      project,
      received_at,
      timestamp,
      message_id: message_id ?? null,
      user_id: user_id ?? null,
      anonymous_id: anonymous_id ?? null,
      body,
      context,
    },
  };
}

function readBody(wrapped: unknown): IngestBody | string {
  if (!isRecord(wrapped)) return 'body is not a wrapped union';
  const branches = Object.keys(wrapped);
  if (branches.length !== 1) return `body has ${branches.length} branches`;
  const branch = branches[0]!;
  const b = wrapped[branch];
  if (!isRecord(b)) return `body branch ${branch} is not a record`;
  switch (branch.slice(branch.lastIndexOf('.') + 1)) {
    case 'Exposure': {
      if (
        typeof b.experiment !== 'string' ||
        typeof b.variation !== 'string' ||
        !isOptionalString(b.decision_id)
      ) {
        return 'exposure needs experiment and variation strings';
      }
      const properties = b.properties ?? {};
      if (!isMapOf(properties, isPropertyValue)) {
        return 'exposure properties must be a map of strings, numbers and booleans';
      }
      return {
        kind: 'exposure',
        experiment: b.experiment,
        variation: b.variation,
        decision_id: b.decision_id ?? null,
        properties,
      };
    }
    case 'Track':
      if (
        typeof b.event !== 'string' ||
        !(b.value === null || b.value === undefined || typeof b.value === 'number') ||
        !isOptionalString(b.decision_id) ||
        !(b.sample === undefined || typeof b.sample === 'number')
      ) {
        return 'track needs an event string, a numeric or null value and a numeric sample';
      }
      return {
        kind: 'track',
        event: b.event,
        value: b.value ?? null,
        decision_id: b.decision_id ?? null,
        sample: b.sample ?? 1,
      };
    case 'Alias':
      return { kind: 'alias' };
    default:
      return `unknown body branch ${branch}`;
  }
}

function isMapOf<V>(value: unknown, isValue: (v: unknown) => v is V): value is Record<string, V> {
  return isRecord(value) && Object.values(value).every(isValue);
}

function isPropertyValue(value: unknown): value is PropertyValue {
  return typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);
}

function isOptionalString(value: unknown): value is string | null | undefined {
  return value === null || value === undefined || typeof value === 'string';
}
