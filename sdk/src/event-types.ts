/**
 * The events a producer sends, as the Event API takes them (docs/semantics.md). Field names are the
 * wire's snake_case on purpose: what you pass is what the gateway reads, and its warnings name the
 * same fields.
 */

/** Unix milliseconds, or an ISO-8601 date-time with offset. */
export type Timestamp = number | string;

/** Flat string map of environment data (user_agent, locale, ...); not analysed. */
export type EventContext = Record<string, string>;

/** Who an event is about: `user_id`, `anonymous_id`, or both. */
export interface Identity {
  user_id?: string;
  anonymous_id?: string;
}

/** Fields the SDK fills in when absent. */
export interface Stamped {
  /**
   * Idempotency key: two events of a project with the same message_id count once. Absent: a UUID v7
   * made when the event is created, so every retry of it carries the same one. Pass your own (e.g. an
   * order id) to make the event idempotent across processes too.
   */
  message_id?: string;
  /** Absent: the time the call was made (see the README on clocks). */
  timestamp?: Timestamp;
}

/** Flat property values: string, number or boolean; at most 4 KB as JSON (the gateway's rule). */
export type EventProperties = Record<string, string | number | boolean>;

/** A unit saw a variation of an experiment. */
export interface ExposureInput extends Identity, Stamped {
  experiment: string;
  variation: string;
  decision_id?: string;
  /**
   * Where the project's declared dimensions are read from (else `context`), as of the unit's first
   * exposure: e.g. `{ country: 'DE', plan: 'pro' }`. Same rules as a track event's properties.
   */
  properties?: EventProperties;
  context?: EventContext;
}

/** Something a unit did; `event` is snake_case, `^[a-z][a-z0-9_]{0,127}$`. */
export interface TrackInput extends Identity, Stamped {
  event: string;
  value?: number;
  properties?: EventProperties;
  decision_id?: string;
  /** The rate this event was sampled at, 0.01 ≤ sample ≤ 1 (weight 1/sample). */
  sample?: number;
  context?: EventContext;
}

/** An anonymous id turned out to be this user. */
export interface AliasInput extends Stamped {
  anonymous_id: string;
  user_id: string;
}

/** An event as it goes on the wire: `type`, `message_id` and `timestamp` always set. */
export type WireEvent =
  | (ExposureInput & { type: 'exposure'; message_id: string; timestamp: Timestamp })
  | (TrackInput & { type: 'track'; message_id: string; timestamp: Timestamp })
  | (AliasInput & { type: 'alias'; message_id: string; timestamp: Timestamp });

/** One event the gateway refused, from a 200 answer's `rejected` list. */
export interface EventRejection {
  index: number;
  code: string;
  field: string;
  message: string;
}

/** The gateway's 200 answer to POST /v1/batch. */
export interface IngestResult {
  accepted: number;
  rejected: EventRejection[];
  warnings?: EventRejection[];
  dropped?: number;
}
