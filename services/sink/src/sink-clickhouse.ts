/**
 * The sink's two ClickHouse statements: where a partition stands, and one insert. Kept apart from the
 * Kafka loop so the exactly-once rules can be read in one place (README.md).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { SinkRow, SinkTable } from './sink-rows.ts';

/**
 * Highest `src_offset` stored per partition of `table` (-1 for a partition with no row). Served by the
 * tables' `offsets` projection, so it costs a few rows whatever the table's size.
 */
export async function storedOffsets(
  client: ClickHouseClient,
  table: SinkTable,
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
 */
export async function insertRows(
  client: ClickHouseClient,
  table: SinkTable,
  rows: readonly SinkRow[],
  token: string,
  resetSession: boolean,
): Promise<void> {
  await client.insert({
    table,
    values: rows as SinkRow[],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: token },
  });
  if (resetSession) {
    await client.command({ query: 'SELECT 1', clickhouse_settings: { insert_deduplication_token: '' } });
  }
}
