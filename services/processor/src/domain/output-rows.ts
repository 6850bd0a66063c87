/**
 * The processor's output rows, one interface per Avro schema; field names are exactly those of
 * `schemas/unit-exposure.avsc`, `schemas/attributed-event.avsc` and `schemas/covariate-event.avsc` (a unit
 * test checks it), so the sink encodes `record` as is.
 */

/** +1 asserts a row, −1 retracts an earlier +1 with identical fields. */
export type Sign = 1 | -1;

/** A unit's assignment in one experiment (topic liftstream.exposures, minus the sign). */
export interface UnitExposureRow {
  project: string;
  experiment: string;
  /** Canonical (alias-resolved) identity, without the project prefix. */
  unit: string;
  /** Variation of the first exposure (ties at the same instant: the smallest variation name). */
  variation: string;
  /** Unix ms. */
  first_exposure_at: number;
  multiple_exposure: boolean;
  /**
   * The project's declared dimensions, valued from the first exposure (`dimension-values.ts`); part
   * of the row, so a change of them is a retraction of the old values plus an assertion.
   */
  dimensions: Record<string, string>;
}

/** One track event counted for one experiment (topic liftstream.attributed, minus the sign). */
export interface AttributedEventRow {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  event_id: string;
  event: string;
  /** Unix ms. */
  timestamp: number;
  /** 1/sample. */
  weight: number;
  value: number | null;
}

/**
 * One track event that happened before the unit's first exposure to an experiment and feeds a CUPED
 * covariate (topic liftstream.covariates, minus the sign; schemas/covariate-event.avsc). Carries the
 * first exposure it was derived against, so moving that retracts the row.
 */
export interface CovariateEventRow {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  /** Unix ms. */
  first_exposure_at: number;
  event_id: string;
  event: string;
  /** Unix ms; first_exposure_at − lookback ≤ timestamp < first_exposure_at. */
  timestamp: number;
  weight: number;
  value: number | null;
}

export type UnitExposureRecord = UnitExposureRow & { sign: Sign };
export type AttributedEventRecord = AttributedEventRow & { sign: Sign };
export type CovariateEventRecord = CovariateEventRow & { sign: Sign };

/** One changelog row to produce; `kind` picks the topic and schema. */
export type SignedRow =
  | { kind: 'exposure'; record: UnitExposureRecord }
  | { kind: 'attributed'; record: AttributedEventRecord }
  | { kind: 'covariate'; record: CovariateEventRecord };
