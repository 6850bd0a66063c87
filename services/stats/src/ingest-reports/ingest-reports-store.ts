/**
 * The `ingest_reports` table (shared/clickhouse/migrations/0007_ingest_reports.sql): inserting the
 * consumer's rows and summing a project's reports over a time range for GET /v1/ingest/summary.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { IngestReportRow } from './ingest-report-rows.ts';

/**
 * One insert of `rows`. A retry after an ambiguous failure, or a record read twice, stores a row again:
 * harmless, since readers take one row per (project, gateway_id, seq). (No insert dedup token: the table
 * has no non_replicated_deduplication_window, so one inherited from the sink's chDB session does nothing.)
 */
export async function insertIngestReports(
  client: ClickHouseClient,
  rows: readonly IngestReportRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.insert({ table: 'ingest_reports', format: 'JSONEachRow', values: [...rows] });
}

/** A project's reported ingest outcomes over a range. */
export interface IngestSummary {
  accepted: number;
  rejected: Record<string, number>;
  dropped: Record<string, number>;
  /** Distinct gateway processes with a report in the range. */
  gateways: number;
  /** Latest window_end among the range's reports, unix ms; null when there is none. */
  lastReportAt: number | null;
}

/**
 * Sums the reports of `project` whose window overlaps [fromMs, toMs] (a window reaching over `from`
 * counts whole). FINAL: exactly one row per report even before ClickHouse merged duplicates away.
 */
export async function ingestSummary(
  client: ClickHouseClient,
  project: string,
  fromMs: number,
  toMs: number,
): Promise<IngestSummary> {
  const rows = await (
    await client.query({
      query:
        // Aliases differ from the columns: ClickHouse would read an alias named like a column in WHERE.
        'SELECT count() AS reports, sum(accepted) AS total_accepted, sumMap(rejected) AS by_code, ' +
        'sumMap(dropped) AS by_reason, uniqExact(gateway_id) AS gateway_count, ' +
        'toFloat64(toUnixTimestamp64Milli(max(window_end))) AS last_ms ' +
        'FROM ingest_reports FINAL WHERE project = {project:String} ' +
        'AND window_end >= fromUnixTimestamp64Milli({from:Int64}) ' +
        'AND window_start <= fromUnixTimestamp64Milli({to:Int64})',
      query_params: { project, from: fromMs, to: toMs },
      format: 'JSONEachRow',
    })
  ).json<{
    reports: number | string;
    total_accepted: number | string;
    by_code: Record<string, number | string>;
    by_reason: Record<string, number | string>;
    gateway_count: number | string;
    last_ms: number;
  }>();
  const row = rows[0];
  if (row === undefined || Number(row.reports) === 0) {
    return { accepted: 0, rejected: {}, dropped: {}, gateways: 0, lastReportAt: null };
  }
  return {
    accepted: Number(row.total_accepted),
    rejected: numbers(row.by_code),
    dropped: numbers(row.by_reason),
    gateways: Number(row.gateway_count),
    lastReportAt: Number(row.last_ms),
  };
}

/** A ClickHouse server quotes 64-bit integers in JSON; chDB does not. */
function numbers(counts: Record<string, number | string>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)]));
}
