import type { DimensionValues } from './dimension-values.ts';

/**
 * Events as the unit stage sees them: only what attribution needs, decoded once by the identity
 * stage from the ingest record. Project and unit are not repeated here: they are the key of the
 * unit the event lives in.
 */
export type UnitEvent = ExposureEvent | TrackEvent;

/** A unit was shown `variation` of `experiment` at `timestamp` (unix ms). */
export interface ExposureEvent {
  kind: 'exposure';
  event_id: string;
  timestamp: number;
  experiment: string;
  variation: string;
  decision_id: string | null;
  /**
   * The values of the project's declared dimensions, read by the identity stage from the exposure's
   * properties and context (`dimension-values.ts`): only these travel, not the whole maps.
   */
  dimensions: DimensionValues;
}

/** A metric event of a unit at `timestamp` (unix ms). */
export interface TrackEvent {
  kind: 'track';
  event_id: string;
  timestamp: number;
  /** Metric event name. */
  event: string;
  /** Null when the producer sent none: such an event counts but adds 0 to value sums. */
  value: number | null;
  /** 1/sample, at least 1. */
  weight: number;
  decision_id: string | null;
}
