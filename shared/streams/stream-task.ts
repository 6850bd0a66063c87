import type { Admin, Kafka, KafkaMessage, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from '../logging/logger.ts';
import { BatchOutput } from './batch-output.ts';
import { committedOffset, highWatermark } from './offsets.ts';
import type { RuntimeMetrics } from './runtime-metrics.ts';
import { isFatalStateError, type CommittedStorage } from './stores/committed-storage.ts';
import { EvictionSweep } from './stores/eviction-sweep.ts';
import { TransactionalStore, type StoreChange } from './stores/transactional-store.ts';
import { TaskLifecycle, type TaskState } from './task-lifecycle.ts';
import { TransactionFailed, type TransactionOffsets } from './task-producer.ts';
import type { SubTopology } from './topology.ts';

/** Everything a task shares with the other tasks of its application instance. */
export interface TaskContext {
  kafka: Kafka;
  admin: Admin;
  /** Consumer group and transactional-id prefix (the application id). */
  appId: string;
  /**
   * A connected transactional producer for `transactionalId`, initialised (InitProducerId), so
   * that every earlier transaction of the id is settled when it resolves (TaskProducer.create).
   */
  createProducer(transactionalId: string): Promise<TaskTransactions>;
  metrics: RuntimeMetrics;
  logger: Logger;
  /** Wall clock for retention, unix ms. */
  now(): number;
  eviction: { intervalMs: number; keysPerStep: number };
  /** A fresh, empty committed storage for the task named `name` (`<stage>-<partition>`). */
  storage(name: string): CommittedStorage;
  /** Decoded values each task's store keeps in its LRU cache. */
  cacheKeysPerTask: number;
}

/** What a task needs of its transactional producer (TaskProducer; a fake in unit tests). */
export interface TaskTransactions {
  /** True after a failure: replace the producer before the next transaction. */
  readonly broken: boolean;
  /** One transaction: the records, the input offset, commit; throws TransactionFailed. */
  commit(topicMessages: TopicMessages[], offsets: TransactionOffsets): Promise<RecordMetadata[]>;
  close(): Promise<void>;
}

/**
 * A task as the task manager drives it, whatever its store's value type: life cycle, offsets,
 * restore, one transaction per chunk.
 */
export interface RuntimeTask {
  readonly stageName: string;
  readonly inputTopic: string;
  readonly changelogTopic: string;
  readonly partition: number;
  readonly transactionalId: string;
  readonly lifecycle: TaskLifecycle;
  /** Next input offset to process (the committed offset); -1 before the first preparation. */
  nextOffset: number;
  /**
   * The changelog partition's high watermark as of the last commit or restore, when known
   * exactly; null when an abort or failure left it unknown. Used to keep the state over a
   * rebalance that gives the task back to this instance untouched.
   */
  changelogEnd: number | null;
  /** True when the store is known to equal the changelog up to `nextOffset` (false after clearState() or a fenced or unsettled commit). */
  restored: boolean;
  /** When the producer was last fenced by another owner (unix ms), to let the rebalance happen first. */
  fencedAtMs: number | null;
  /** Consecutive failed chunks (for the retry backoff). */
  failures: number;
  /** Committed keys in the store. */
  readonly stateSize: number;
  fence(): Promise<void>;
  clearState(): void;
  /** Applies one changelog record while restoring (null: tombstone). */
  restoreRecord(key: string, value: string | null): void;
  /** The end of a restore: writes what it buffered. */
  finishRestore(): void;
  processChunk(records: readonly KafkaMessage[]): Promise<ChunkOutcome>;
  close(): Promise<void>;
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
export class StreamTask<V extends object> implements RuntimeTask {
  readonly store: TransactionalStore<V>;
  readonly sweep: EvictionSweep<V>;
  readonly lifecycle: TaskLifecycle;
  readonly inputTopic: string;
  readonly changelogTopic: string;
  nextOffset = -1;
  changelogEnd: number | null = null;
  restored = false;
  fencedAtMs: number | null = null;
  failures = 0;
  private producer: TaskTransactions | null = null;
  /** Sink topic → its name in the sub-topology, for the records-out metric. */
  private readonly sinkNames: ReadonlyMap<string, string>;

  constructor(
    private readonly topology: SubTopology<V>,
    readonly partition: number,
    private readonly ctx: TaskContext,
  ) {
    this.inputTopic = topology.source;
    this.changelogTopic = topology.store.changelog;
    const storage = ctx.storage(`${topology.name}-${partition}`);
    this.store = new TransactionalStore(topology.store.codec, storage, ctx.cacheKeysPerTask);
    this.sweep = new EvictionSweep(this.store, topology.store.evict, ctx.eviction);
    this.lifecycle = new TaskLifecycle(this.transactionalId);
    this.sinkNames = new Map(Object.entries(topology.sinks).map(([name, topic]) => [topic, name]));
  }

  get stageName(): string {
    return this.topology.name;
  }

  get transactionalId(): string {
    return `${this.ctx.appId}-${this.topology.name}-${this.partition}`;
  }

  /** The life cycle's state (shorthand). */
  get state(): TaskState {
    return this.lifecycle.state;
  }

  get stateSize(): number {
    return this.store.size;
  }

  restoreRecord(key: string, value: string | null): void {
    this.store.restore(key, value);
  }

  finishRestore(): void {
    this.store.flush();
  }

  /**
   * Replaces the producer with a freshly initialised one: fences any other holder of the
   * transactional id and settles every earlier transaction of it.
   */
  async fence(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    await old?.close();
    this.producer = await this.ctx.createProducer(this.transactionalId);
    this.fencedAtMs = null;
  }

  /** Drops the state (before a full restore). */
  clearState(): void {
    this.store.clear();
    this.sweep.reset();
    this.restored = false;
    this.changelogEnd = null;
  }

  /**
   * Processes `records` (contiguous, all at or after `nextOffset`) in one transaction. Only a
   * running task may start a chunk; an assignment that suspends it meanwhile does not stop the
   * chunk's transaction (the next preparation fences and settles it).
   */
  async processChunk(records: readonly KafkaMessage[]): Promise<ChunkOutcome> {
    this.lifecycle.assert('running');
    const started = process.hrtime.bigint();
    const stage = this.topology.name;
    let output: BatchOutput;
    let evicted: number;
    try {
      // The sweep's rows (re-derivations) go first: it changed those units' state before this chunk reads it.
      const swept = new BatchOutput();
      evicted = this.sweep.step(this.ctx.now(), swept);
      output = await this.topology.process(this.store, records);
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
      this.ctx.metrics.transactionEnded(stage, outcome === 'aborted' ? 'abort' : outcome);
      this.ctx.logger.warn({ err: error, task: this.transactionalId, outcome }, 'transaction failed');
      if (outcome === 'unknown') return this.settle(changes, next, records.length, output, evicted);
      this.store.rollback();
      this.changelogEnd = null;
      if (outcome === 'fenced') {
        this.fencedAtMs = this.ctx.now();
        this.mustRebuild();
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
    this.ctx.metrics.transactionEnded(stage, 'commit', Number(process.hrtime.bigint() - started) / 1e9);
    return 'committed';
  }

  /** Closes the producer and releases the state (the task left this instance, or it stops). */
  async close(): Promise<void> {
    this.lifecycle.close();
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
    const recordsOut = new Map([['changelog', changes.length]]);
    for (const { topic, messages } of output.topicMessages()) {
      const sink = this.sinkNames.get(topic) ?? 'other';
      recordsOut.set(sink, (recordsOut.get(sink) ?? 0) + messages.length);
    }
    metrics.chunkCommitted(this.topology.name, {
      recordsIn,
      recordsOut,
      counters: output.counters,
      receivedAt: output.receivedAt,
    });
    if (evicted > 0) metrics.evicted(this.topology.store.codec.name, evicted);
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
    this.mustRebuild();
    return 'rebuild';
  }

  /**
   * Fenced, or a commit whose outcome could not be settled: the store may differ from the
   * changelog, so it is not kept by the next preparation, whatever suspends the task meanwhile.
   */
  private mustRebuild(): void {
    this.restored = false;
    this.lifecycle.suspend('rebuild');
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
