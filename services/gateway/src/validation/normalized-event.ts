/**
 * The validated event, shaped as `schemas/ingest-event.avsc` (record io.liftstream.ingest.IngestEvent)
 * minus the three fields the transport adds: `event_id`, `project`, `received_at`.
 *
 * Written by hand because the Avro schema cannot be turned into literal TypeScript types without a
 * code generator; test/services/gateway/validation/normalized-event.test.ts keeps the two in step by
 * checking field names against the .avsc and validating produced events with avsc itself.
 *
 * `kind` is not an Avro field: it is the discriminant of the `body` union, which Avro encodes by branch.
 * The transport writes `body` as the union branch named in AVRO_BODY_RECORD[kind].
 */

/** The three event types producers send. */
export type EventKind = 'exposure' | 'track' | 'alias';

/** The property value types the Avro map allows: ["string", "double", "boolean"]. */
export type PropertyValue = string | number | boolean;

/** Avro record io.liftstream.ingest.Exposure. */
export interface ExposureBody {
  experiment: string;
  variation: string;
  decision_id: string | null;
  /**
   * Same rules and null-prototype map as TrackBody.properties; where the processor finds the values of
   * the project's declared dimensions (docs/semantics.md, "Dimensions").
   */
  properties: Record<string, PropertyValue>;
}

/** Avro record io.liftstream.ingest.Track. */
export interface TrackBody {
  event: string;
  /** Finite double, or null when the producer sent none (adds 0 to value sums). */
  value: number | null;
  /**
   * Flat map; a null-prototype object, so keys such as 'constructor' are plain data and
   * cannot reach Object.prototype.
   */
  properties: Record<string, PropertyValue>;
  decision_id: string | null;
  /** Producer's sampling rate in [0.01, 1]; the event weighs 1/sample. */
  sample: number;
}

/** Avro record io.liftstream.ingest.Alias (no fields: the ids are top-level). */
export type AliasBody = Record<string, never>;

interface NormalizedEventBase {
  /** Event time, unix ms (integer); the receive time when the producer sent none. */
  timestamp: number;
  message_id: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  /** Flat string map (user_agent, locale, ...); null-prototype object, like properties. */
  context: Record<string, string>;
}

/** An accepted exposure. */
export interface NormalizedExposure extends NormalizedEventBase {
  kind: 'exposure';
  body: ExposureBody;
}

/** An accepted track event. */
export interface NormalizedTrack extends NormalizedEventBase {
  kind: 'track';
  body: TrackBody;
}

/** An accepted alias: always carries both user_id and anonymous_id. */
export interface NormalizedAlias extends NormalizedEventBase {
  kind: 'alias';
  body: AliasBody;
}

/** One accepted event, ready for the transport to add event_id, project and received_at. */
export type NormalizedEvent = NormalizedExposure | NormalizedTrack | NormalizedAlias;

/** Full Avro name of the `body` union branch for each kind. */
export const AVRO_BODY_RECORD = {
  exposure: 'io.liftstream.ingest.Exposure',
  track: 'io.liftstream.ingest.Track',
  alias: 'io.liftstream.ingest.Alias',
} as const satisfies Record<EventKind, string>;
