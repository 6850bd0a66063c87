/**
 * One ingest request from parsed events to Kafka records and the answer the producer will get once
 * those records are acknowledged. Pure apart from the injected encoder (a reused scratch buffer) and
 * id source: validation is
 * the validation layer's (validateBatch), this adds the transport fields, keys and Avro encoding.
 */
import type { BatchInput } from '../http/request-body.ts';
import type { BatchEncoder } from '../transport/confluent-encoder.ts';
import { ingestKey, toIngestValue } from '../transport/ingest-record.ts';
import { validateBatch } from '../validation/index.ts';
import type { BatchVerdict, RejectionCode, ValidationContext, WarningCode } from '../validation/index.ts';

/** One Kafka record of the ingest topic, ready to send. */
export interface OutgoingRecord {
  readonly key: string;
  readonly value: Buffer;
}

/**
 * Bytes a record costs in a produce request besides its key and value: length varints, attributes,
 * timestamp and offset deltas, header count (Kafka record format v2). An estimate, for batch sizing.
 */
export const RECORD_OVERHEAD_BYTES = 24;

/**
 * The one per-event code the HTTP layer adds to the validation catalogue: an ndjson line that is not
 * JSON. (Validation works on parsed values and never sees the text.)
 */
export const MALFORMED_JSON = 'malformed_json';

export type EventRejectionCode = RejectionCode | typeof MALFORMED_JSON;

export interface EventRejection {
  index: number;
  code: EventRejectionCode;
  field: string;
  message: string;
}

export interface EventWarning {
  index: number;
  code: WarningCode;
  field: string;
  message: string;
}

/** The 200 answer to an ingest request. */
export interface IngestResponse {
  /** Events written to Kafka (acknowledged) by this request. */
  accepted: number;
  rejected: EventRejection[];
  warnings: EventWarning[];
  /** Events dropped without blame (known bots): counted, never written. */
  dropped: number;
}

export interface PreparedIngest {
  readonly records: OutgoingRecord[];
  /** Size estimate of `records` for batching: keys, values and per-record overhead. */
  readonly bytes: number;
  readonly response: IngestResponse;
  /** The validation verdict (rejections before the malformed_json substitution), for metrics. */
  readonly verdict: BatchVerdict;
}

/**
 * Validates the events of one request and builds its records and answer. Accepted events get a new
 * event id, the project and the receive time of `ctx`.
 */
export function prepareIngest(
  input: BatchInput,
  ctx: ValidationContext,
  encoder: BatchEncoder,
  newEventId: () => string,
): PreparedIngest {
  const verdict = validateBatch(input.events, ctx);
  const n = verdict.accepted.length;
  const values = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const { event } = verdict.accepted[i] as BatchVerdict['accepted'][number];
    values[i] = toIngestValue(event, {
      project: ctx.project,
      receivedAt: ctx.receivedAt,
      eventId: newEventId(),
    });
  }
  const encoded = n === 0 ? [] : encoder.encodeBatch(values);
  const records = new Array<OutgoingRecord>(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const key = ingestKey(ctx.project, (verdict.accepted[i] as BatchVerdict['accepted'][number]).event);
    const value = encoded[i] as Buffer;
    // Keys are mostly ASCII; length is a close enough estimate for batch sizing.
    bytes += key.length + value.length + RECORD_OVERHEAD_BYTES;
    records[i] = { key, value };
  }
  const rejected: EventRejection[] =
    input.malformed.size === 0
      ? verdict.rejected
      : verdict.rejected.map((r) => {
          const why = input.malformed.get(r.index);
          return why === undefined ? r : { index: r.index, code: MALFORMED_JSON, field: '', message: why };
        });
  return {
    records,
    bytes,
    verdict,
    response: {
      accepted: records.length,
      rejected,
      warnings: verdict.warnings,
      dropped: verdict.dropped.length,
    },
  };
}
