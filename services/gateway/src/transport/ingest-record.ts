/**
 * From a validated event to the ingest topic's record: the Avro value of `schemas/ingest-event.avsc`
 * (in avsc's in-memory form) and the record key. Pure: the event id and receive time come in.
 */
import { AVRO_BODY_RECORD } from '../validation/index.ts';
import type { NormalizedEvent } from '../validation/index.ts';

/** What the transport adds to a validated event. */
export interface IngestRecordMeta {
  /** Project of the write key. */
  readonly project: string;
  /** When the gateway received the request, unix ms. */
  readonly receivedAt: number;
  /** A fresh unique id (crypto.randomUUID()) for this accepted event. */
  readonly eventId: string;
}

/**
 * Record io.liftstream.ingest.IngestEvent as avsc writes it: the `body` union of records is wrapped
 * by the branch's full name; `["null", "string"]` unions are plain values.
 */
export interface IngestEventValue {
  event_id: string;
  project: string;
  received_at: number;
  timestamp: number;
  message_id: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  body: { [branch: string]: object };
  context: Record<string, string>;
}

/**
 * The raw identity the record is keyed by: `user_id` if present, else `anonymous_id`; alias events
 * by their `anonymous_id`, so an anonymous id's events and its alias meet on one partition
 * (shared/kafka/topics.ts). Validation guarantees the chosen id is present.
 */
export function rawIdentity(event: NormalizedEvent): string {
  const id = event.kind === 'alias' ? event.anonymous_id : (event.user_id ?? event.anonymous_id);
  // Unreachable for validated events (identity is required); an explicit failure beats a 'null' key.
  if (id === null) throw new Error(`validated ${event.kind} event has no identity to key by`);
  return id;
}

/** The ingest record key `<project>/<raw identity>` (UTF-8; murmur2-partitioned by Kafka clients). */
export function ingestKey(project: string, event: NormalizedEvent): string {
  return `${project}/${rawIdentity(event)}`;
}

/** The Avro value of one accepted event. */
export function toIngestValue(event: NormalizedEvent, meta: IngestRecordMeta): IngestEventValue {
  return {
    event_id: meta.eventId,
    project: meta.project,
    received_at: meta.receivedAt,
    timestamp: event.timestamp,
    message_id: event.message_id,
    user_id: event.user_id,
    anonymous_id: event.anonymous_id,
    body: { [AVRO_BODY_RECORD[event.kind]]: event.body },
    context: event.context,
  };
}
