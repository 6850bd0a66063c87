/**
 * The wire contract of `<prefix>ingest-reports`: one JSON record per project and report, key `<project>`.
 * The gateway writes it (ingest-report-publisher.ts); the stats service reads it with this same schema
 * (services/stats/src/ingest-reports/), so the two cannot drift apart.
 *
 * JSON rather than Avro: the topic is internal between liftstream's own services, its records are a few
 * hundred bytes every few seconds, and a reader needs no registry to inspect it.
 *
 * A report is identified by (`gateway_id`, `seq`): a record delivered twice, or resent after a produce
 * whose acknowledgement was lost, carries the same pair and the same counts, so the reader stores it once.
 */
import { z } from 'zod';

/** Longest project id, gateway id and code accepted on read (far above what the gateway writes). */
const MAX_NAME_LENGTH = 256;
/** Most distinct codes in one map: the validation catalogue has a few dozen. */
const MAX_CODES = 256;

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const name = z.string().min(1).max(MAX_NAME_LENGTH);
const counts = z
  .record(name, count)
  .refine((m) => Object.keys(m).length <= MAX_CODES, `at most ${MAX_CODES} codes`);
/** Unix ms within ClickHouse's DateTime64(3) range (years 1900-2299), where the reader stores it. */
const unixMs = z.number().int().min(-2_208_988_800_000).max(10_413_791_999_999);

/**
 * One report as it travels. Unknown fields are ignored (a newer gateway may add some); missing or
 * mistyped ones make the record malformed.
 */
export const ingestReportSchema = z
  .object({
    /** Random per process start: seq restarts at 1 with a new id, so (gateway_id, seq) never repeats. */
    gateway_id: name,
    /** Per process, increasing by one for each new report (a resend keeps its number). */
    seq: count,
    project: name,
    /** First count of the window, unix ms. */
    window_start: unixMs,
    /** When the window was closed, unix ms. */
    window_end: unixMs,
    /** Events acknowledged by Kafka. */
    accepted: count,
    /** Events refused, by rejection code (validation/errors.ts, and malformed_json). */
    rejected: counts,
    /** Events discarded without blame, by reason (bot). */
    dropped: counts,
  })
  .refine((r) => r.window_start <= r.window_end, {
    message: 'window_start is after window_end',
    path: ['window_start'],
  });

export type IngestReport = z.infer<typeof ingestReportSchema>;
