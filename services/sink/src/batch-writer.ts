/**
 * One fetched batch (kafkajs eachBatch): skip what ClickHouse already holds, decode the rest, store it in
 * an insert round with the other batches handled at the same time (insert-rounds.ts), then resolve and
 * commit its offsets.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { RoundPacer } from './flush-decision.ts';
import { InsertRounds } from './insert-rounds.ts';
import type { RoundTicket } from './insert-rounds.ts';
import { recordsAfter } from './offset-watermarks.ts';
import type { PartitionAssignments } from './partition-assignment.ts';
import type { RecordDecoder } from './record-decoder.ts';
import type { FetchedRecord, SinkContext } from './sink-context.ts';
import { lagOf } from './sink-context.ts';
import type { BatchRows, RowInserter } from './sink-inserts.ts';
import type { SinkTable } from './sink-rows.ts';

/** The sink's insert rounds: timed by its flush policy, stored by `inserter`, counted in its metrics. */
export function sinkInsertRounds(ctx: SinkContext, inserter: RowInserter): InsertRounds<BatchRows> {
  return new InsertRounds<BatchRows>(
    new RoundPacer(ctx.flushPolicy),
    (members) => inserter.storeRound(members.map((m) => m.payload)),
    (pacing, members) => {
      ctx.metrics.insertRounds.inc({ pacing });
      ctx.metrics.roundBatches.inc(members);
    },
  );
}

export class BatchWriter {
  constructor(
    private readonly ctx: SinkContext,
    private readonly assignments: PartitionAssignments,
    private readonly rounds: InsertRounds<BatchRows>,
    private readonly decoder: RecordDecoder,
  ) {}

  async handleBatch(payload: EachBatchPayload): Promise<void> {
    const ticket = this.rounds.enter();
    try {
      await this.handle(payload, ticket);
    } finally {
      ticket.leave();
    }
  }

  private async handle(payload: EachBatchPayload, ticket: RoundTicket<BatchRows>): Promise<void> {
    const ctx = this.ctx;
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const table = ctx.tableOf(batch.topic);
    const running = () => isRunning() && !ctx.stopping;
    if (table === null || !(await this.assignments.waitPrepared(heartbeat, running)) || isStale()) return;
    const watermark = ctx.watermarks.get(table, batch.partition);
    if (watermark === undefined) return; // not ours in this assignment: a stale batch
    ctx.highWatermarks.set(`${batch.topic}:${batch.partition}`, Number(batch.highWatermark));

    const records = batch.messages.map(toFetched);
    const { fresh, skipped } = recordsAfter(records, watermark);
    const key = `${batch.topic}:${batch.partition}`;
    if (skipped > 0) {
      ctx.skipped.alreadyStored += skipped;
      ctx.metrics.recordsSkipped.inc({ table, reason: 'already_stored' }, skipped);
      ctx.logger.info(
        { table, partition: batch.partition, skipped, watermark },
        'skipped records already stored',
      );
    }
    if (fresh.length > 0) {
      const rows = await this.decoder.decode(table, batch.partition, fresh, heartbeat, running);
      if (rows === null || !running() || isStale()) return;
      if (rows.length > 0) {
        const member: BatchRows = {
          table,
          topic: batch.topic,
          partition: batch.partition,
          rows,
          heartbeat,
          running: () => running() && !isStale(),
        };
        if (!(await ticket.join(rows.length, member))) return;
        this.observeAges(table, fresh);
      } else ticket.leave();
      resolveOffset(String((fresh[fresh.length - 1] as FetchedRecord).offset));
    } else {
      ticket.leave();
      if (!batch.isEmpty()) resolveOffset(batch.lastOffset());
    }
    // The whole batch is handled: its last offset (a trailing transaction marker included) is consumed.
    ctx.consumed.set(key, Math.max(ctx.consumed.get(key) ?? -1, Number(batch.lastOffset())));
    ctx.metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      lagOf(Number(batch.highWatermark), ctx.consumed.get(key) as number),
    );
    if (running()) await commitOffsetsIfNecessary();
  }

  /** Freshness of a stored chunk: each record's age now that its row is in ClickHouse. */
  private observeAges(table: SinkTable, chunk: readonly FetchedRecord[]): void {
    const histogram = this.ctx.metrics.recordAgeSeconds.labels({ table });
    const now = Date.now();
    // A negative age (the processor's clock ahead of this host's) counts as 0.
    for (const r of chunk) histogram.observe(Math.max(0, now - r.timestamp) / 1000);
  }
}

function toFetched(message: KafkaMessage): FetchedRecord {
  return { offset: Number(message.offset), value: message.value, timestamp: Number(message.timestamp) };
}
