/**
 * The sink's exactly-once bookkeeping, pure. ClickHouse is the offset store of record: the highest
 * `src_offset` stored per (table, Kafka partition) says which records are already in the table, because
 * every insert is one atomic part holding a contiguous run of a partition's records. Kafka's committed
 * offsets are only a hint of where to start reading.
 */
import type { SinkTable } from './sink-rows.ts';

/** Every table the sink writes: one per topic, plus the per-variation changes it derives from `attributed`. */
export type StoredTable = SinkTable | 'variation_metrics';

/**
 * Highest stored offset per (table, partition), learnt from ClickHouse once per assignment and then
 * advanced by this process's own inserts (one owner per partition at a time, so nobody else moves it).
 * Cleared on every rebalance: a partition that came back may have been written by another instance.
 */
export class OffsetWatermarks {
  private readonly stored = new Map<string, number>();

  /** Highest stored offset, -1 when the table holds no row of the partition, undefined when not known yet. */
  get(table: StoredTable, partition: number): number | undefined {
    return this.stored.get(key(table, partition));
  }

  set(table: StoredTable, partition: number, offset: number): void {
    this.stored.set(key(table, partition), offset);
  }

  clear(): void {
    this.stored.clear();
  }

  entries(): { table: StoredTable; partition: number; offset: number }[] {
    return [...this.stored].map(([k, offset]) => {
      const [table, partition] = k.split(':') as [StoredTable, string];
      return { table, partition: Number(partition), offset };
    });
  }
}

function key(table: StoredTable, partition: number): string {
  return `${table}:${partition}`;
}

/**
 * The records of a fetched batch that are not in the table yet: offsets strictly above the stored
 * watermark (-1 = nothing stored). Records at or below it were inserted before a crash or rebalance
 * that happened between the insert and the Kafka commit; inserting them again would count them twice.
 */
export function recordsAfter<T extends { offset: number }>(
  records: readonly T[],
  watermark: number,
): { fresh: T[]; skipped: number } {
  const fresh = records.filter((r) => r.offset > watermark);
  return { fresh, skipped: records.length - fresh.length };
}

/** Where to read a partition from after an assignment, and how many records retention took first. */
export interface SeekPlan {
  offset: number;
  /** Records that were never inserted and are no longer in the topic (sink down longer than retention). */
  lostToRetention: number;
}

/**
 * The offset right after the last stored record, whatever Kafka's committed offset says: a committed
 * offset ahead of ClickHouse (data dir wiped, restored from an older backup) would otherwise skip
 * records for good, and one behind it only re-reads records the watermark then skips. With nothing
 * stored the partition is read from its earliest record, which rebuilds an empty ClickHouse.
 * @param stored highest stored offset, -1 when none
 * @param low the partition's earliest available offset (log start)
 */
export function seekPlan(stored: number, low: number): SeekPlan {
  const next = stored + 1;
  if (stored < 0 || next >= low) return { offset: Math.max(next, low), lostToRetention: 0 };
  return { offset: low, lostToRetention: low - next };
}
