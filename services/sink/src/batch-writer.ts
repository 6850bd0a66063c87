/**
 * One fetched batch (kafkajs eachBatch): skip what ClickHouse already holds, let the flush rounds decide
 * whether it goes in now, then decode, store and resolve it chunk by chunk, heartbeating between chunks.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { FlushRounds } from './flush-rounds.ts';
import { chunks, recordsAfter } from './offset-watermarks.ts';
import type { PartitionAssignments } from './partition-assignment.ts';
import type { RecordDecoder } from './record-decoder.ts';
import type { FetchedRecord, SinkContext } from './sink-context.ts';
import { lagOf } from './sink-context.ts';
import type { RowInserter } from './sink-inserts.ts';
import type { AttributedRow, SinkTable } from './sink-rows.ts';

export class BatchWriter {
  constructor(
    private readonly ctx: SinkContext,
    private readonly assignments: PartitionAssignments,
    private readonly rounds: FlushRounds,
    private readonly decoder: RecordDecoder,
    private readonly inserter: RowInserter,
  ) {}

  async handleBatch(payload: EachBatchPayload): Promise<void> {
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
    if (fresh.length > 0 && !this.rounds.admit(table, batch.topic, batch.partition, fresh)) return;
    if (skipped > 0) {
      ctx.skipped.alreadyStored += skipped;
      ctx.metrics.recordsSkipped.inc({ table, reason: 'already_stored' }, skipped);
      ctx.logger.info(
        { table, partition: batch.partition, skipped, watermark },
        'skipped records already stored',
      );
    }
    for (const chunk of chunks(fresh, ctx.config.batchRows)) {
      if (!running() || isStale()) return;
      const rows = await this.decoder.decode(table, batch.partition, chunk, heartbeat, running);
      if (rows === null) return;
      if (rows.length > 0) {
        const stored =
          table === 'attributed'
            ? await this.inserter.storeAttributed(
                batch.topic,
                batch.partition,
                rows as AttributedRow[],
                heartbeat,
                running,
              )
            : await this.inserter.store(table, batch.topic, batch.partition, rows, heartbeat, running);
        if (!stored) return;
        this.observeAges(table, chunk);
      }
      resolveOffset(String((chunk[chunk.length - 1] as FetchedRecord).offset));
      await heartbeat();
    }
    if (fresh.length === 0 && !batch.isEmpty()) resolveOffset(batch.lastOffset());
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
