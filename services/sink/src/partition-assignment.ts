/**
 * Assignments: on each one, forget where partitions stood, read it back from ClickHouse (with the per-unit
 * totals of attributed partitions) and seek each partition right after its last stored record. Batches
 * wait until this is done.
 */
import type { Admin } from 'kafkajs';
import { hasInfraCode } from '../../../shared/errors.ts';
import { backoffDelayMs } from '../../../shared/retry/capped-backoff.ts';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
import { seekPlan } from './offset-watermarks.ts';
import type { Assignment, SinkContext } from './sink-context.ts';
import { lagOf, message, perTable } from './sink-context.ts';
import { storedOffsets } from './sink-clickhouse.ts';
import { SINK_TABLES } from './sink-rows.ts';
import { restoreTotals } from './sink-totals.ts';

export class PartitionAssignments {
  constructor(private readonly ctx: SinkContext) {}

  /**
   * A new assignment (kafkajs rebalances eagerly: it lists everything this member now owns). Forget every
   * watermark (another instance may have written a partition meanwhile), then read them from ClickHouse
   * and seek each partition right after its last stored record. Batches wait until this is done.
   */
  onAssignment(memberAssignment: Record<string, number[]>): void {
    const ctx = this.ctx;
    const epoch = ctx.assignment.epoch + 1;
    ctx.assignment = {
      epoch,
      partitions: perTable((table) => [...(memberAssignment[ctx.topics[table]] ?? [])].sort((a, b) => a - b)),
      prepared: false,
    };
    ctx.watermarks.clear();
    try {
      ctx.totals.clear();
    } catch (err) {
      ctx.failOnStateStore(err);
      return;
    }
    ctx.logger.info({ epoch, partitions: ctx.assignment.partitions }, 'partitions assigned');
    void this.prepare(ctx.assignment);
  }

  /** A rebalance began: batches wait for the next assignment's preparation. */
  onRebalancing(): void {
    this.ctx.assignment.prepared = false;
  }

  /** Waits (heartbeating) until the current assignment is prepared; false when the batch should not run. */
  async waitPrepared(heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    while (!this.ctx.assignment.prepared) {
      if (!(await waitWithHeartbeat(100, heartbeat, running, 100))) return false;
    }
    return running();
  }

  private async prepare(assignment: Assignment): Promise<void> {
    const ctx = this.ctx;
    const current = () => !ctx.stopping && ctx.assignment.epoch === assignment.epoch;
    for (let attempt = 1; current(); attempt++) {
      try {
        for (const table of SINK_TABLES) {
          const partitions = assignment.partitions[table];
          if (partitions.length === 0) continue;
          const stored = await storedOffsets(ctx.deps.clickhouse, table, partitions);
          // The per-variation changes are written before the rows, so they are at or ahead of them.
          const changes =
            table === 'attributed'
              ? await storedOffsets(ctx.deps.clickhouse, 'variation_metrics', partitions)
              : null;
          const bounds = await (ctx.admin as Admin).fetchTopicOffsets(ctx.topics[table]);
          if (!current()) return;
          for (const partition of partitions) {
            // A newer assignment (or a stop) may have come while an earlier partition's totals loaded.
            if (!current()) return;
            const offset = stored.get(partition) ?? -1;
            const bound = bounds.find((b) => b.partition === partition);
            const low = Number(bound?.low ?? 0);
            const high = Number(bound?.high ?? 0);
            const key = `${ctx.topics[table]}:${partition}`;
            ctx.watermarks.set(table, partition, offset);
            ctx.highWatermarks.set(key, high);
            ctx.consumed.set(key, offset);
            ctx.metrics.consumerLag.set(
              { topic: ctx.topics[table], partition: String(partition) },
              lagOf(high, offset),
            );
            if (offset >= high && offset >= 0) {
              ctx.logger.error(
                { table, partition, stored: offset, high },
                'ClickHouse holds offsets beyond the end of the topic: was the topic recreated? Its table must be cleared',
              );
            }
            if (changes !== null) {
              const restored = await restoreTotals(
                ctx,
                partition,
                offset,
                changes.get(partition) ?? -1,
                current,
              );
              if (!restored) return;
            }
            const plan = seekPlan(offset, low);
            if (plan.lostToRetention > 0) {
              ctx.logger.error(
                { table, partition, stored: offset, low, lost: plan.lostToRetention },
                'records expired from Kafka before they were stored: the sink was down longer than the retention',
              );
            }
            ctx.consumer?.seek({ topic: ctx.topics[table], partition, offset: String(plan.offset) });
          }
        }
        if (!current()) return;
        ctx.assignment.prepared = true;
        ctx.logger.info(
          { epoch: assignment.epoch, stored: ctx.watermarks.entries() },
          'resuming after stored offsets',
        );
        return;
      } catch (err) {
        // An outdated preparation's failure (a stop closed the state store under it) is nobody's concern.
        if (!current()) return;
        ctx.noteError(err);
        if (hasInfraCode(err, 'STATE_STORAGE')) {
          ctx.failOnStateStore(err);
          return;
        }
        const delay = backoffDelayMs(attempt, ctx.config.retry);
        ctx.logger.warn(
          { err: message(err), attempt, retryInMs: delay },
          'reading stored offsets failed; retrying',
        );
        await waitWithHeartbeat(delay, async () => undefined, current, 250);
      }
    }
  }
}
