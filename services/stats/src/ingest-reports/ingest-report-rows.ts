/**
 * An `ingest-reports` record → an `ingest_reports` row (shared/clickhouse/migrations/0007_ingest_reports.sql),
 * or why it cannot be one. Pure: bad data is a value here; the consumer logs, counts and skips it.
 */
import { ingestReportSchema } from '../../../gateway/src/index.ts';
import { formatDateTime64 } from '../../../sink/src/index.ts';

/** A row in JSONEachRow form. */
export interface IngestReportRow {
  project: string;
  gateway_id: string;
  seq: number;
  window_start: string;
  window_end: string;
  accepted: number;
  rejected: Record<string, number>;
  dropped: Record<string, number>;
}

export type IngestReportRead = { ok: true; row: IngestReportRow } | { ok: false; reason: string };

/** Decodes one record's value (UTF-8 JSON, as the gateway writes it). */
export function toIngestReportRow(value: Buffer | null): IngestReportRead {
  if (value === null) return { ok: false, reason: 'no value (tombstone)' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = ingestReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'record' : issue.path.join('.');
    return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  const r = parsed.data;
  const windowStart = formatDateTime64(r.window_start);
  const windowEnd = formatDateTime64(r.window_end);
  // The schema bounds both to DateTime64's range; a null here would be a mismatch of the two bounds.
  if (windowStart === null || windowEnd === null) return { ok: false, reason: 'window out of range' };
  return {
    ok: true,
    row: {
      project: r.project,
      gateway_id: r.gateway_id,
      seq: r.seq,
      window_start: windowStart,
      window_end: windowEnd,
      accepted: r.accepted,
      rejected: r.rejected,
      dropped: r.dropped,
    },
  };
}
