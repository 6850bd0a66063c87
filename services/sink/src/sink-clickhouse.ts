/**
 * The sink's ClickHouse statements: where a partition stands, one insert, restoring the per-unit totals
 * of a partition, and rebuilding `variation_metrics` from `attributed`. Kept apart from the Kafka loop so
 * the exactly-once rules can be read in one place (README.md).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { StoredTable } from './offset-watermarks.ts';
import type { SinkRow } from './sink-rows.ts';
import { unitKey } from './variation-deltas.ts';
import type { UnitTotals, VariationDeltaRow } from './variation-deltas.ts';

/**
 * Highest `src_offset` stored per partition of `table` (-1 for a partition with no row). Served by the
 * tables' `offsets` projection, so it costs a few rows whatever the table's size.
 */
export async function storedOffsets(
  client: ClickHouseClient,
  table: StoredTable,
  partitions: readonly number[],
): Promise<Map<number, number>> {
  const result = new Map<number, number>(partitions.map((p) => [p, -1]));
  if (partitions.length === 0) return result;
  const rows = await (
    await client.query({
      query:
        'SELECT src_partition, toString(max(src_offset)) AS max_offset FROM {table:Identifier} ' +
        'WHERE src_partition IN {partitions:Array(UInt32)} GROUP BY src_partition',
      query_params: { table, partitions },
      format: 'JSONEachRow',
    })
  ).json<{ src_partition: number | string; max_offset: string }>();
  for (const row of rows) result.set(Number(row.src_partition), Number(row.max_offset));
  return result;
}

/**
 * One INSERT of `rows` into `table`: one block, so one atomic part (the tables are not partitioned and the
 * sink's batches stay far below max_insert_block_size), deduplicated by `token` if a part with the same
 * token is among the table's last non_replicated_deduplication_window inserts.
 *
 * chDB applies `clickhouse_settings` as session-wide SETs; `resetSession` clears the token afterwards so a
 * later insert of the same process (another writer, a test) cannot inherit it and be dropped as a duplicate.
 * A session only the sink uses needs no reset: each of its inserts sets its own token.
 */
export async function insertRows(
  client: ClickHouseClient,
  table: StoredTable,
  rows: readonly (SinkRow | VariationDeltaRow)[],
  token: string,
  resetSession: boolean,
): Promise<void> {
  await client.insert({
    table,
    values: rows as (SinkRow | VariationDeltaRow)[],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: token },
  });
  if (resetSession) {
    await client.command({ query: 'SELECT 1', clickhouse_settings: { insert_deduplication_token: '' } });
  }
}

/**
 * The totals of every unit with a live event among one partition's attributed rows (read from the
 * `per_unit` projection). One partition per call bounds the size of the answer.
 */
export async function restoreUnitTotals(
  client: ClickHouseClient,
  partition: number,
): Promise<[string, UnitTotals][]> {
  const rows = await (
    await client.query({
      query: `SELECT project, experiment, event, variation, unit,
                     toFloat64(sum(sign)) AS events, sum(sign * weight) AS k, sum(sign * weight * coalesce(value, 0)) AS x
              FROM attributed
              WHERE src_partition = {partition:UInt32}
              GROUP BY project, experiment, event, variation, unit, src_partition
              HAVING events != 0`,
      query_params: { partition },
      format: 'JSONEachRow',
    })
  ).json<{
    project: string;
    experiment: string;
    event: string;
    variation: string;
    unit: string;
    events: number;
    k: number;
    x: number;
  }>();
  return rows.map((r) => [unitKey(r), { events: Number(r.events), count: Number(r.k), value: Number(r.x) }]);
}

/**
 * `variation_metrics` recomputed from `attributed` in one statement: per partition and variation, the sums
 * over units of their final totals, stamped with the partition's last attributed offset (so the sink resumes
 * right after it). Used when the table is new on an existing database, for bulk loads, and by tests.
 * Not atomic with concurrent sink inserts: run it with the sink stopped.
 */
export async function rebuildVariationMetrics(
  client: ClickHouseClient,
  opts: { truncate: boolean },
): Promise<void> {
  if (opts.truncate) await client.command({ query: 'TRUNCATE TABLE variation_metrics' });
  await client.command({
    query: `INSERT INTO variation_metrics
            SELECT project, experiment, event, variation,
                   countIf(events > 0), sumIf(x, events > 0), sumIf(x * x, events > 0),
                   sumIf(k, events > 0), sumIf(k * k, events > 0),
                   src_partition, any(last)
            FROM (
              SELECT project, experiment, event, variation, unit, src_partition,
                     sum(sign) AS events, sum(sign * weight) AS k, sum(sign * weight * coalesce(value, 0)) AS x
              FROM attributed
              GROUP BY project, experiment, event, variation, unit, src_partition
            ) AS per_unit
            INNER JOIN (
              SELECT src_partition, max(src_offset) AS last FROM attributed GROUP BY src_partition
            ) AS ends USING (src_partition)
            GROUP BY project, experiment, event, variation, src_partition`,
  });
}

/** Rebuilds `variation_metrics` when it is empty but `attributed` is not (an upgrade); true if it did. */
export async function backfillVariationMetricsIfMissing(client: ClickHouseClient): Promise<boolean> {
  const [row] = await (
    await client.query({
      query: `SELECT (SELECT count() FROM variation_metrics) = 0 AND (SELECT count() FROM attributed) > 0 AS missing`,
      format: 'JSONEachRow',
    })
  ).json<{ missing: number | boolean }>();
  if (!(row?.missing === true || Number(row?.missing) === 1)) return false;
  await rebuildVariationMetrics(client, { truncate: false });
  return true;
}
