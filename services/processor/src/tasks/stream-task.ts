import type { Admin, Kafka, KafkaMessage, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ProcessorMetrics, StageName } from '../processor-metrics.ts';
import { isFatalStateError, type CommittedStorage } from '../state/committed-storage.ts';
import { EvictionSweep, type EvictFn } from '../state/eviction-sweep.ts';
import { TransactionalStore, type StoreChange, type StoreCodec } from '../state/transactional-store.ts';
import { TaskProducer, TransactionFailed, type TaskProducerOptions } from '../transport/task-producer.ts';
import { BatchOutput } from './batch-output.ts';
import { committedOffset, highWatermark } from './offsets.ts';

/** What a task's stage does with a chunk of its input, against its store. */
export interface TaskStage<V extends object> {
  name: StageName;
  codec: StoreCodec<V>;
  evict: EvictFn<V>;
  process(store: TransactionalStore<V>, records: readonly KafkaMessage[]): Promise<BatchOutput> | BatchOutput;
}

/** Everything a task shares with the other tasks of its processor. */
export interface TaskContext {
  kafka: Kafka;
  admin: Admin;
  /** Consumer group and transactional-id prefix (PROCESSOR_APP_ID). */
  appId: string;
  producer: TaskProducerOptions;
  metrics: ProcessorMetrics;
  logger: Logger;
  /** Wall clock for retention, unix ms. */
  now(): number;
  eviction: { intervalMs: number; keysPerStep: number };
  /** A fresh, empty committed storage for the task named `name` (`<stage>-<partition>`). */
  storage(name: string): CommittedStorage;
  /** Decoded values each task's store keeps in its LRU cache. */
  cacheKeysPerTask: number;
}

/**
 * How a chunk ended: `committed`; `retry` (aborted, the store is back at the last commit and the
 * caller re-reads from `nextOffset`); `rebuild` (fenced, or a commit whose outcome could not be
 * settled: the task must be fenced and restored again before it processes anything).
 */
export type ChunkOutcome = 'committed' | 'retry' | 'rebuild';

/**
 * One task: an input partition, its state store and changelog partition (same number), and its
 * transactional producer with the stable id `<appId>-<stage>-<partition>`.
 *
 * Invariant between chunks: `store` equals the changelog up to the last committed transaction,
 * and `nextOffset` is the input offset that transaction committed for the group. Each chunk runs
 * in one transaction (outputs + changelog + input offset); its state changes live in the store's
 * overlay until the commit returns, and are dropped if it aborts.
 */
export class StreamTask<V extends object> {
  readonly store: TransactionalStore<V>;
  readonly sweep: EvictionSweep<V>;
  /** Next input offset to process (the committed offset); -1 before the first preparation. */
  nextOffset = -1;
  /**
   * The changelog partition's high watermark as of the last commit or restore, when known
   * exactly; null when an abort or failure left it unknown. Used to keep the state over a
   * rebalance that gives the task back to this instance untouched.
   */
  changelogEnd: number | null = null;
  /** True when `store` holds a complete restore (false after clear()). */
  restored = false;
  /** The assignment epoch the task was last made ready for; -1 while not ready. */
  readyEpoch = -1;
  /** Set when the task must be fenced and restored before processing again. */
  needsRebuild = false;
  /** When the producer was last fenced by another owner (unix ms), to let the rebalance happen first. */
  fencedAtMs: number | null = null;
  /** Consecutive failed chunks (for the retry backoff). */
  failures = 0;
  private producer: TaskProducer | null = null;

  constructor(
    readonly stage: TaskStage<V>,
    readonly inputTopic: string,
    readonly changelogTopic: string,
    readonly partition: number,
    private readonly ctx: TaskContext,
  ) {
    const storage = ctx.storage(`${stage.name}-${partition}`);
    this.store = new TransactionalStore(stage.codec, storage, ctx.cacheKeysPerTask);
    this.sweep = new EvictionSweep(this.store, stage.evict, ctx.eviction);
  }

  get transactionalId(): string {
    return `${this.ctx.appId}-${this.stage.name}-${this.partition}`;
  }

  /**
   * Replaces the producer with a freshly initialised one: fences any other holder of the
   * transactional id and settles every earlier transaction of it.
   */
  async fence(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    await old?.close();
    this.producer = await TaskProducer.create(this.ctx.kafka, this.transactionalId, this.ctx.producer);
    this.fencedAtMs = null;
  }

  /** Drops the state (before a full restore). */
  clearState(): void {
    this.store.clear();
    this.sweep.reset();
    this.restored = false;
    this.changelogEnd = null;
  }

  /** Processes `records` (contiguous, all at or after `nextOffset`) in one transaction. */
  async processChunk(records: readonly KafkaMessage[]): Promise<ChunkOutcome> {
    const started = process.hrtime.bigint();
    const stage = this.stage.name;
    let output: BatchOutput;
    let evicted: number;
    try {
      // The sweep's rows (re-derivations) go first: it changed those units' state before this chunk reads it.
      const swept = new BatchOutput();
      evicted = this.sweep.step(this.ctx.now(), swept);
      output = await this.stage.process(this.store, records);
      if (!swept.isEmpty()) {
        swept.append(output);
        output = swept;
      }
    } catch (error) {
      this.store.rollback();
      if (isFatalStateError(error)) throw error;
      this.ctx.logger.warn(
        { err: error, task: this.transactionalId },
        'processing failed; retrying the chunk',
      );
      return 'retry';
    }
    const changes = this.store.changes();
    const messages = output.topicMessages();
    if (changes.length > 0) messages.push(this.changelogMessages(changes));
    const next = Number(records[records.length - 1]!.offset) + 1;
    const offsets = {
      groupId: this.ctx.appId,
      topic: this.inputTopic,
      partition: this.partition,
      offset: next,
    };
    let metadata: RecordMetadata[];
    try {
      if (this.producer === null || this.producer.broken) await this.fence();
      metadata = await this.producer!.commit(messages, offsets);
    } catch (error) {
      const outcome = error instanceof TransactionFailed ? error.outcome : 'aborted';
      this.ctx.metrics.transactions.inc({ stage, result: outcome === 'aborted' ? 'abort' : outcome });
      this.ctx.logger.warn({ err: error, task: this.transactionalId, outcome }, 'transaction failed');
      if (outcome === 'unknown') return this.settle(changes, next, records.length, output, evicted);
      this.store.rollback();
      this.changelogEnd = null;
      if (outcome === 'fenced') {
        this.fencedAtMs = this.ctx.now();
        this.needsRebuild = true;
        return 'rebuild';
      }
      return 'retry';
    }
    // Outside the try: once the commit returned, nothing may turn it into a retry.
    const end = changelogEndFrom(
      metadata,
      this.changelogTopic,
      this.partition,
      this.changelogEnd,
      changes.length,
    );
    this.committed(changes, next, records.length, output, evicted, end);
    this.ctx.metrics.transactions.inc({ stage, result: 'commit' });
    this.ctx.metrics.transactionSeconds.observe({ stage }, Number(process.hrtime.bigint() - started) / 1e9);
    return 'committed';
  }

  /** Closes the producer and releases the state (the task left this instance, or it stops). */
  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.close();
    try {
      this.store.drop();
    } catch (err) {
      // Only space is at stake: a later task of the same name starts from an emptied database anyway.
      this.ctx.logger.warn({ err, task: this.transactionalId }, 'could not release the task state');
    }
  }

  private changelogMessages(changes: readonly StoreChange[]): TopicMessages {
    return {
      topic: this.changelogTopic,
      // The changelog partition is the task's: same number as its input partition.
      messages: changes.map((c) => ({ key: c.key, value: c.value, partition: this.partition })),
    };
  }

  private committed(
    changes: readonly StoreChange[],
    next: number,
    recordsIn: number,
    output: BatchOutput,
    evicted: number,
    changelogEnd: number | null,
  ): void {
    this.store.commit();
    this.nextOffset = next;
    this.changelogEnd = changelogEnd;
    const { metrics } = this.ctx;
    const stage = this.stage.name;
    metrics.publish(stage, recordsIn, output.counters);
    // Wall clock, not ctx.now(): received_at is the gateway's wall clock.
    metrics.observeEventAges(output.receivedAt, Date.now());
    for (const { topic, messages } of output.topicMessages()) {
      metrics.recordsOut.inc({ stage, topic: topicKind(topic) }, messages.length);
    }
    metrics.recordsOut.inc({ stage, topic: 'changelog' }, changes.length);
    if (evicted > 0) metrics.evictions.inc({ store: this.stage.codec.name }, evicted);
  }

  /**
   * EndTxn(commit) failed, so the transaction may or may not have committed. A new producer's
   * initialisation completes or aborts it; the group's committed offset then says which: the
   * chunk's end (committed: keep the overlay) or the chunk's start (aborted: drop it). Anything
   * else, or a failure here, means a rebuild.
   */
  private async settle(
    changes: readonly StoreChange[],
    next: number,
    recordsIn: number,
    output: BatchOutput,
    evicted: number,
  ): Promise<ChunkOutcome> {
    try {
      await this.fence();
      const committed = await committedOffset(
        this.ctx.admin,
        this.ctx.appId,
        this.inputTopic,
        this.partition,
      );
      const end = await highWatermark(this.ctx.admin, this.changelogTopic, this.partition);
      if (committed === next) {
        this.committed(changes, next, recordsIn, output, evicted, end);
        return 'committed';
      }
      if (committed === this.nextOffset) {
        this.store.rollback();
        this.changelogEnd = end;
        return 'retry';
      }
      this.ctx.logger.warn(
        { task: this.transactionalId, committed, expected: [this.nextOffset, next] },
        'committed offset moved unexpectedly; rebuilding the task',
      );
    } catch (error) {
      if (isFatalStateError(error)) throw error;
      this.ctx.logger.warn({ err: error, task: this.transactionalId }, 'could not settle a failed commit');
    }
    this.store.rollback();
    this.needsRebuild = true;
    return 'rebuild';
  }
}

/**
 * After a commit, the changelog partition ends right after the commit marker that follows our
 * last record: last offset + 2 (nobody else writes the task's changelog partition). kafkajs
 * sends one produce request per partition per sendBatch, so the last record is at
 * baseOffset + count − 1. Unchanged when the transaction wrote nothing there.
 */
function changelogEndFrom(
  metadata: readonly RecordMetadata[],
  topic: string,
  partition: number,
  previousEnd: number | null,
  count: number,
): number | null {
  if (count === 0) return previousEnd;
  const written = metadata.filter((m) => m.topicName === topic && m.partition === partition);
  // Split over several requests: the last one's record count is not known here; "unknown" only
  // means the next rebalance restores this task instead of keeping it.
  if (written.length !== 1 || written[0]!.baseOffset === undefined) return null;
  return Number(written[0]!.baseOffset) + count - 1 + 2;
}

function topicKind(topic: string): string {
  for (const kind of ['units', 'exposures', 'attributed', 'covariates'])
    if (topic.endsWith(kind)) return kind;
  return 'other';
}
