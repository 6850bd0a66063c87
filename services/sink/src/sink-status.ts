/** What `SinkHandle.status()` reports: the sink's state and, per assigned partition, where it stands. */
import type { SinkContext } from './sink-context.ts';
import { lagOf } from './sink-context.ts';
import { SINK_TABLES } from './sink-rows.ts';
import type { PartitionStatus, SinkStatus } from './sink-types.ts';

export function sinkStatus(ctx: SinkContext): SinkStatus {
  const partitions: PartitionStatus[] = [];
  for (const table of SINK_TABLES) {
    for (const partition of ctx.assignment.partitions[table]) {
      const topic = ctx.topics[table];
      const stored = ctx.watermarks.get(table, partition);
      const high = ctx.highWatermarks.get(`${topic}:${partition}`);
      const consumed = ctx.consumed.get(`${topic}:${partition}`);
      partitions.push({
        topic,
        partition,
        storedOffset: stored ?? null,
        highWatermark: high ?? null,
        lag: consumed === undefined || high === undefined ? null : lagOf(high, consumed),
      });
    }
  }
  return {
    state: ctx.state,
    ready: ctx.state === 'running' && ctx.assignment.epoch > 0 && ctx.assignment.prepared,
    assignments: ctx.assignment.epoch,
    groupId: ctx.config.groupId,
    topics: { ...ctx.topics },
    partitions,
    backoff: ctx.backoff === null ? null : { ...ctx.backoff },
    lastError: ctx.lastError,
    rowsInserted: { ...ctx.rowsInserted },
    recordsSkipped: { ...ctx.skipped },
    unitsInState: ctx.totals.size(),
  };
}
