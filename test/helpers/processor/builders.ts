import type { IngestEvent, PropertyValue } from '../../../services/processor/src/domain/ingest-event.ts';
import type {
  AttributedEventRow,
  CovariateEventRow,
  Sign,
  SignedRow,
  UnitExposureRow,
} from '../../../services/processor/src/domain/output-rows.ts';
import type { ExposureEvent, TrackEvent } from '../../../services/processor/src/domain/unit-event.ts';

/** Identity and envelope fields shared by the ingest builders. */
export interface EnvelopeOptions {
  id: string;
  project?: string;
  user?: string | null;
  anon?: string | null;
  ts?: number;
  receivedAt?: number;
  messageId?: string | null;
  context?: Record<string, string>;
}

function envelope(o: EnvelopeOptions): Omit<IngestEvent, 'body'> {
  const timestamp = o.ts ?? 1000;
  return {
    event_id: o.id,
    project: o.project ?? 'p',
    received_at: o.receivedAt ?? timestamp,
    timestamp,
    message_id: o.messageId ?? null,
    user_id: o.user ?? null,
    anonymous_id: o.anon ?? null,
    context: o.context ?? {},
  };
}

/** An ingest exposure; defaults: project p, experiment e, variation A, timestamp 1000, no properties. */
export function ingestExposure(
  o: EnvelopeOptions & {
    experiment?: string;
    variation?: string;
    decision?: string | null;
    properties?: Record<string, PropertyValue>;
  },
): IngestEvent {
  return {
    ...envelope(o),
    body: {
      kind: 'exposure',
      experiment: o.experiment ?? 'e',
      variation: o.variation ?? 'A',
      decision_id: o.decision ?? null,
      properties: o.properties ?? {},
    },
  };
}

/** An ingest track; defaults: event buy, no value, sample 1. */
export function ingestTrack(
  o: EnvelopeOptions & { event?: string; value?: number | null; sample?: number; decision?: string | null },
): IngestEvent {
  return {
    ...envelope(o),
    body: {
      kind: 'track',
      event: o.event ?? 'buy',
      value: o.value ?? null,
      decision_id: o.decision ?? null,
      sample: o.sample ?? 1,
    },
  };
}

/** An ingest alias of `anon` to `user`. */
export function ingestAlias(
  o: Omit<EnvelopeOptions, 'user' | 'anon'> & { anon: string; user: string },
): IngestEvent {
  return { ...envelope(o), body: { kind: 'alias' } };
}

/** A unit-stage exposure; defaults: experiment e, no decision, no dimension values. */
export function exposure(
  event_id: string,
  timestamp: number,
  variation = 'A',
  o: { experiment?: string; decision?: string | null; dimensions?: Record<string, string> } = {},
): ExposureEvent {
  return {
    kind: 'exposure',
    event_id,
    timestamp,
    experiment: o.experiment ?? 'e',
    variation,
    decision_id: o.decision ?? null,
    dimensions: o.dimensions ?? {},
  };
}

/** A unit-stage track; defaults: event buy, no value, weight 1. */
export function track(
  event_id: string,
  timestamp: number,
  o: { event?: string; value?: number | null; weight?: number; decision?: string | null } = {},
): TrackEvent {
  return {
    kind: 'track',
    event_id,
    timestamp,
    event: o.event ?? 'buy',
    value: o.value ?? null,
    weight: o.weight ?? 1,
    decision_id: o.decision ?? null,
  };
}

/** An exposure row of unit u in project p; defaults: experiment e, variation A, not multiple, no dimensions. */
export function exposureRow(first_exposure_at: number, o: Partial<UnitExposureRow> = {}): UnitExposureRow {
  return {
    project: 'p',
    experiment: 'e',
    unit: 'u',
    variation: 'A',
    first_exposure_at,
    multiple_exposure: false,
    dimensions: {},
    ...o,
  };
}

/** An attributed row of unit u in project p for `t`; defaults: experiment e, variation A. */
export function attributedRow(t: TrackEvent, o: Partial<AttributedEventRow> = {}): AttributedEventRow {
  return {
    project: 'p',
    experiment: 'e',
    unit: 'u',
    variation: 'A',
    event_id: t.event_id,
    event: t.event,
    timestamp: t.timestamp,
    weight: t.weight,
    value: t.value,
    ...o,
  };
}

/** A covariate row of unit u in project p for `t` against first exposure `first_exposure_at`; defaults as above. */
export function covariateRow(
  t: TrackEvent,
  first_exposure_at: number,
  o: Partial<CovariateEventRow> = {},
): CovariateEventRow {
  return { ...attributedRow(t), first_exposure_at, ...o };
}

type AnyOutputRow = UnitExposureRow | AttributedEventRow | CovariateEventRow;

/** The row asserted (+1). */
export function plus(row: AnyOutputRow): SignedRow {
  return signed(row, 1);
}

/** The row retracted (−1). */
export function minus(row: AnyOutputRow): SignedRow {
  return signed(row, -1);
}

function signed(row: AnyOutputRow, sign: Sign): SignedRow {
  if (!('event_id' in row)) return { kind: 'exposure', record: { ...row, sign } };
  return 'first_exposure_at' in row
    ? { kind: 'covariate', record: { ...row, sign } }
    : { kind: 'attributed', record: { ...row, sign } };
}
