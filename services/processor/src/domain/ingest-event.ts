/**
 * An accepted ingest record as the processor's identity stage sees it, decoded from
 * `schemas/ingest-event.avsc`. The Kafka adapter maps Avro's body union (Exposure | Track |
 * Alias records) to `body.kind`. A track's `properties` are not used by attribution and are left
 * out; an exposure's `properties` and the `context` are kept because the project's dimensions are
 * read from them (`dimension-values.ts`).
 */
export interface IngestEvent {
  /** Gateway-assigned unique id of this accepted event; the row identity downstream. */
  event_id: string;
  project: string;
  /** When the gateway received the request, unix ms. */
  received_at: number;
  /** Event time, unix ms (received_at when the producer sent none). */
  timestamp: number;
  /** Producer's idempotency key. */
  message_id: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  body: IngestBody;
  /** Flat string context ({} when absent). */
  context: Record<string, string>;
}

/** The property value types of the Avro map: ["string", "double", "boolean"]. */
export type PropertyValue = string | number | boolean;

/** The kind-specific part of an ingest event. */
export type IngestBody = ExposureBody | TrackBody | AliasBody;

export interface ExposureBody {
  kind: 'exposure';
  experiment: string;
  variation: string;
  decision_id: string | null;
  /** {} in records written before exposures had properties (the Avro default). */
  properties: Record<string, PropertyValue>;
}

export interface TrackBody {
  kind: 'track';
  event: string;
  value: number | null;
  decision_id: string | null;
  /** Producer's sampling rate in (0, 1]; the event weighs 1/sample. */
  sample: number;
}

/** alias(anonymous_id → user_id): both ids are on the envelope. */
export interface AliasBody {
  kind: 'alias';
}

/**
 * The raw identity an ingest event is keyed by: `user_id` if present, else `anonymous_id`;
 * alias events by their `anonymous_id` (so an anonymous id's events and its alias meet on one
 * key). Null when the event has none, which the gateway should never let through.
 */
export function rawIdentityOf(event: IngestEvent): string | null {
  if (event.body.kind === 'alias') return present(event.anonymous_id);
  return present(event.user_id) ?? present(event.anonymous_id);
}

/** The ingest topic's record key `<project>/<rawId>`, or null when the event has no identity. */
export function identityKeyOf(event: IngestEvent): string | null {
  const rawId = rawIdentityOf(event);
  return rawId === null ? null : `${event.project}/${rawId}`;
}

// An empty id would make every identity-less event one giant unit: treat it as absent.
function present(id: string | null): string | null {
  return id === null || id === '' ? null : id;
}
