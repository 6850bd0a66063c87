/**
 * Kafka → ClickHouse sink for the processor's public topics: `<prefix>exposures` → table `exposures`,
 * `<prefix>attributed` → table `attributed`, `<prefix>covariates` → table `covariates` (SINK_TABLES), Avro
 * through the schema registry, read_committed (the processor writes them in transactions, so aborted output
 * is never seen).
 *
 * Exactly-once, with ClickHouse as the offset store of record (README.md has the full argument):
 * - every row carries `src_partition` and `src_offset`, the Kafka record it came from;
 * - each INSERT holds a contiguous run of records of each partition it covers (an insert round stores every
 *   partition handled at once together) and is one atomic part (the tables are not partitioned and an
 *   insert is far below max_insert_block_size), so it is entirely there or not at all;
 * - so the highest `src_offset` stored for (table, partition) says exactly which records are in. It is read
 *   from ClickHouse after every assignment (the `offsets` projection answers in milliseconds), the
 *   partition is seeked right after it, and it is then advanced in memory by this process's own inserts;
 *   records at or below it are skipped;
 * - Kafka offsets are committed after the insert but are only a hint: a crash between the insert and the
 *   commit re-reads records that the watermark then skips, and a committed offset ahead of ClickHouse
 *   (ClickHouse restored from an older backup) is overridden by the seek;
 * - `insert_deduplication_token` = `<topic>:<partition>:<first>-<last>` for each run, joined by commas, is
 *   a second guard: a retry after
 *   an ambiguous failure (a timeout whose insert did land) is dropped by ClickHouse itself.
 * Why not a deduplicating engine (ReplacingMergeTree on the record's identity): it removes duplicates only
 * when parts merge, so every query would need FINAL (slow) and the signed sums would be wrong in between.
 *
 * For `attributed` the sink also keeps each unit's totals in memory (restored from ClickHouse on every
 * assignment) and writes, before the rows, the change each chunk makes to every variation's sufficient
 * statistics into `variation_metrics` (variation-deltas.ts), with its own stored offsets: results then cost
 * O(variations). A crash between the two inserts is replayed for the rows and the totals only.
 *
 * ClickHouse down: the insert is retried with capped exponential backoff, the batch kept in memory,
 * nothing resolved or committed, the consumer heartbeating meanwhile so the group keeps its partitions;
 * `status()` and the metrics show the backoff and the growing lag.
 *
 * Limits: a sink instance that lost its partitions without noticing (frozen longer than the session
 * timeout, then resumed mid-insert) could insert a range the new owner also inserts; the token catches it
 * only when both chose the same boundaries. Records that cannot be decoded are skipped, logged and counted
 * (`invalid`), never retried forever; a registry that does not answer is retried.
 *
 * The parts, one job each, sharing one SinkContext (sink-context.ts): sink-consumer.ts (start-up, the group),
 * partition-assignment.ts (assignments: stored offsets, seeks), sink-totals.ts (the per-unit totals store),
 * batch-writer.ts (one fetched batch) with insert-rounds.ts and flush-decision.ts (which batches go in
 * together, and when) and record-decoder.ts (Avro to
 * rows), sink-inserts.ts (inserts with retry), sink-status.ts (status()); sink-metrics.ts has the metrics.
 */
import { BatchWriter, sinkInsertRounds } from './batch-writer.ts';
import { PartitionAssignments } from './partition-assignment.ts';
import { RecordDecoder } from './record-decoder.ts';
import { SinkConsumer } from './sink-consumer.ts';
import { message, SinkContext } from './sink-context.ts';
import { RowInserter } from './sink-inserts.ts';
import { sinkStatus } from './sink-status.ts';
import type { SinkDeps, SinkHandle, SinkStatus } from './sink-types.ts';

/** Starts the sink in the background (waiting for Kafka and the topics if needed) and returns at once. */
export function startSink(deps: SinkDeps): SinkHandle {
  const sink = new ClickHouseSink(deps);
  sink.start();
  return { stop: () => sink.stop(), status: () => sink.status() };
}

class ClickHouseSink {
  private readonly ctx: SinkContext;
  private readonly consumer: SinkConsumer;

  constructor(deps: SinkDeps) {
    const ctx = new SinkContext(deps);
    this.ctx = ctx;
    const rounds = sinkInsertRounds(ctx, new RowInserter(ctx));
    const assignments = new PartitionAssignments(ctx);
    const writer = new BatchWriter(ctx, assignments, rounds, new RecordDecoder(ctx));
    this.consumer = new SinkConsumer(ctx, assignments, writer);
  }

  start(): void {
    this.consumer.start();
  }

  async stop(): Promise<void> {
    const ctx = this.ctx;
    if (ctx.state === 'stopped') return;
    const failed = ctx.state === 'failed';
    ctx.stopping = true;
    ctx.state = 'stopping';
    await this.consumer.settled();
    await ctx.consumer
      ?.disconnect()
      .catch((err: unknown) => ctx.logger.warn({ err }, 'consumer disconnect failed'));
    await ctx.admin?.disconnect().catch(() => undefined);
    ctx.consumer = null;
    ctx.admin = null;
    try {
      ctx.stateDirectory?.close();
    } catch (err) {
      ctx.logger.warn({ err: message(err) }, 'could not remove the state directory');
    }
    // A sink stopped by a failure says so in /readyz until the process is gone.
    ctx.state = failed ? 'failed' : 'stopped';
    ctx.logger.info('sink stopped');
  }

  status(): SinkStatus {
    return sinkStatus(this.ctx);
  }
}
