import type { Admin, Kafka, KafkaMessage, Message, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from '../logging/logger.ts';
import { BatchOutput } from './batch-output.ts';
import { committedOffset, highWatermark } from './offsets.ts';
import type { RuntimeMetrics } from './runtime-metrics.ts';
import { isFatalStateError, type CommittedStorage } from './stores/committed-storage.ts';
import type { StoreChange } from './stores/transactional-store.ts';
import { TaskLifecycle, type TaskState } from './task-lifecycle.ts';
import type { TaskPart } from './task-part.ts';
import { TransactionFailed, type TransactionOffsets } from './task-producer.ts';

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
  /** A fresh, empty committed storage for the store named `name` (`<sub-topology>-<partition>`). */
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
 * Where records a task sends to one of its own sources go: a task that owns partition p of every
 * source processes the records that land on partition p (by the producer's partitioner) itself,
 * in the same transaction, instead of producing and consuming them again.
 */
export interface LocalRouting {
  /** The partition `key` lands on in `topic` (the producer's partitioner). */
  partitionOf(topic: string, key: string): number;
}

/**
 * How a chunk ended: `committed`; `retry` (aborted, the store is back at the last commit and the
 * caller re-reads from the part's `nextOffset`); `rebuild` (fenced, or a commit whose outcome
 * could not be settled: the task must be fenced and restored again before it processes anything);
 * `not-running` (not started: while it waited for the task's previous chunk, the task was suspended
 * or closed; the caller re-reads from the part's `nextOffset` once the task runs again).
 */
export type ChunkOutcome = 'committed' | 'retry' | 'rebuild' | 'not-running';

/**
 * Records sent to the task's own sources are processed in place at most this many times per
 * chunk (an event, its unit's forward, that unit's forward, ...); deeper ones are produced, so a
 * cycle of forwards can never keep one transaction open.
 */
const MAX_LOCAL_HOPS = 4;

/**
 * One task: partition `partition` of one sub-topology (one part) or of every co-partitioned
 * sub-topology (one part each), and its transactional producer, `<appId>-<name>-<partition>`
 * (with several parts, `<appId>-task-<partition>`).
 *
 * Invariant between chunks: each part's store equals its changelog partition up to the last
 * committed transaction, and each part's `nextOffset` is the source offset that transaction
 * committed for the group. Each chunk (records of one source) runs in one transaction: outputs,
 * every part's changelog changes and the chunk's source offset; state changes live in the stores'
 * overlays until the commit returns, and are dropped if it aborts. Chunks of one task never overlap.
 */
export class StreamTask {
  readonly lifecycle: TaskLifecycle;
  readonly transactionalId: string;
  /** True when every part's store is known to equal its changelog up to its `nextOffset`. */
  restored = false;
  /** When the producer was last fenced by another owner (unix ms), to let the rebalance happen first. */
  fencedAtMs: number | null = null;
  /** Consecutive failed chunks (for the retry backoff). */
  failures = 0;
  private producer: TaskTransactions | null = null;
  private readonly bySource: ReadonlyMap<string, TaskPart>;
  /** The chunk in progress: the next one waits for it. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    readonly parts: readonly TaskPart[],
    readonly partition: number,
    private readonly ctx: TaskContext,
    private readonly routing: LocalRouting | null = null,
  ) {
    if (parts.length === 0) throw new Error('a task needs at least one part');
    this.bySource = new Map(parts.map((p) => [p.source, p]));
    this.transactionalId = transactionalIdOf(ctx.appId, parts, partition);
    this.lifecycle = new TaskLifecycle(this.transactionalId);
  }

  /** The life cycle's state (shorthand). */
  get state(): TaskState {
    return this.lifecycle.state;
  }

  /** The part reading `source`. */
  part(source: string): TaskPart | undefined {
    return this.bySource.get(source);
  }

  /**
   * Replaces the producer with a freshly initialised one: fences any other holder of the
   * transactional id and settles every earlier transaction of it. A task of several parts also
   * fences the ids its parts had as tasks of their own, so transactions left open by a build that
   * ran one task per sub-topology are settled before this one reads the changelogs.
   */
  async fence(): Promise<void> {
    // A closed task must not take its id back from its next owner (a chunk still settling).
    if (this.lifecycle.state === 'closed') throw new Error(`task ${this.transactionalId} is closed`);
    const old = this.producer;
    this.producer = null;
    await old?.close();
    if (this.parts.length > 1) {
      for (const part of this.parts) {
        const legacy = await this.ctx.createProducer(
          transactionalIdOf(this.ctx.appId, [part], this.partition),
        );
        await legacy.close();
      }
    }
    this.producer = await this.ctx.createProducer(this.transactionalId);
    this.fencedAtMs = null;
  }

  /** Drops every part's state (before a full restore). */
  clearState(): void {
    for (const part of this.parts) part.clearState();
    this.restored = false;
  }

  /**
   * Processes `records` of `source` (contiguous, all at or after its part's `nextOffset`) in one
   * transaction, after the task's chunk in flight. Only a running task starts a chunk; an assignment
   * that suspends it meanwhile does not stop the chunk's transaction (the next preparation fences
   * and settles it).
   */
  processChunk(source: string, records: readonly KafkaMessage[]): Promise<ChunkOutcome> {
    const run = this.busy.then(() => this.runChunk(source, records));
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async runChunk(source: string, records: readonly KafkaMessage[]): Promise<ChunkOutcome> {
    // The caller saw the task running; a chunk of its other source may have changed that since.
    if (this.lifecycle.state !== 'running') return 'not-running';
    const part = this.bySource.get(source);
    if (part === undefined) throw new Error(`task ${this.transactionalId} does not read ${source}`);
    const started = process.hrtime.bigint();
    let chunk: ChunkWork;
    try {
      chunk = await this.work(part, records);
    } catch (error) {
      for (const p of this.parts) p.rollback();
      if (isFatalStateError(error)) throw error;
      this.ctx.logger.warn(
        { err: error, task: this.transactionalId },
        'processing failed; retrying the chunk',
      );
      return 'retry';
    }
    const messages: TopicMessages[] = [];
    for (const { output } of chunk.byPart.values()) messages.push(...output.topicMessages());
    for (const [p, changes] of chunk.changes)
      if (changes.length > 0) messages.push(this.changelogMessages(p, changes));
    const next = Number(records[records.length - 1]!.offset) + 1;
    const offsets = { groupId: this.ctx.appId, topic: source, partition: this.partition, offset: next };
    const stage = part.name;
    let metadata: RecordMetadata[];
    try {
      if (this.producer === null || this.producer.broken) await this.fence();
      metadata = await this.producer!.commit(messages, offsets);
    } catch (error) {
      const outcome = error instanceof TransactionFailed ? error.outcome : 'aborted';
      this.ctx.metrics.transactionEnded(stage, outcome === 'aborted' ? 'abort' : outcome);
      this.ctx.logger.warn({ err: error, task: this.transactionalId, outcome }, 'transaction failed');
      if (outcome === 'unknown') return this.settle(part, chunk, next);
      for (const p of this.parts) {
        p.rollback();
        p.changelogEnd = null;
      }
      if (outcome === 'fenced') {
        this.fencedAtMs = this.ctx.now();
        this.mustRebuild();
        return 'rebuild';
      }
      return 'retry';
    }
    // Outside the try: once the commit returned, nothing may turn it into a retry.
    const ends = new Map<TaskPart, number | null>();
    for (const p of this.parts) {
      const count = chunk.changes.get(p)?.length ?? 0;
      ends.set(p, changelogEndFrom(metadata, p.changelogTopic, this.partition, p.changelogEnd, count));
    }
    this.committed(part, chunk, next, ends);
    this.ctx.metrics.transactionEnded(stage, 'commit', Number(process.hrtime.bigint() - started) / 1e9);
    return 'committed';
  }

  /**
   * The chunk's work before its transaction: a sweep step of every part (its rows first: it
   * changed those keys' state before the chunk reads it), the chunk on its part, then records
   * sent to this task's own source partitions processed in place, hop by hop.
   */
  private async work(part: TaskPart, records: readonly KafkaMessage[]): Promise<ChunkWork> {
    const byPart = new Map<TaskPart, PartWork>();
    const now = this.ctx.now();
    for (const p of this.parts) {
      const output = new BatchOutput();
      const evicted = p.sweepStep(now, output);
      byPart.set(p, { output, recordsIn: 0, evicted });
    }
    const first = byPart.get(part)!;
    absorb(first, await part.process(records));
    first.recordsIn = records.length;
    let pending = this.takeLocal([...byPart.values()].map((w) => w.output));
    for (let hop = 1; pending.size > 0; hop++) {
      const produced: BatchOutput[] = [];
      for (const [p, local] of pending) {
        const work = byPart.get(p)!;
        absorb(work, await p.process(local));
        work.recordsIn += local.length;
        produced.push(work.output);
      }
      pending = hop < MAX_LOCAL_HOPS ? this.takeLocal(produced) : new Map();
    }
    const changes = new Map<TaskPart, StoreChange[]>();
    for (const p of this.parts) changes.set(p, p.changes());
    return { byPart, changes };
  }

  /**
   * Takes out of `outputs` the records sent to one of this task's sources that land on its own
   * partition, as input records for that part. Without local routing (a task per sub-topology),
   * nothing.
   */
  private takeLocal(outputs: readonly BatchOutput[]): Map<TaskPart, KafkaMessage[]> {
    const local = new Map<TaskPart, KafkaMessage[]>();
    const routing = this.routing;
    if (routing === null) return local;
    for (const output of outputs) {
      for (const [source, part] of this.bySource) {
        // Each record's partition is fixed here (kafkajs then skips hashing its key again).
        const taken = output.take(source, (m) => {
          m.partition ??= routing.partitionOf(source, m.key as string);
          return m.partition === this.partition;
        });
        if (taken.length === 0) continue;
        const list = local.get(part) ?? [];
        for (const m of taken) list.push(asInputRecord(m));
        local.set(part, list);
      }
    }
    return local;
  }

  /** Closes the producer and releases the state (the task left this instance, or it stops). */
  async close(): Promise<void> {
    this.lifecycle.close();
    // A chunk in flight finishes its transaction first (kafkajs already waits for running batches
    // before it rejoins; this keeps close() safe on its own).
    await this.busy;
    const producer = this.producer;
    this.producer = null;
    await producer?.close();
    for (const part of this.parts) {
      try {
        part.drop();
      } catch (err) {
        // Only space is at stake: a later task of the same name starts from an emptied database anyway.
        this.ctx.logger.warn({ err, task: this.transactionalId }, 'could not release the task state');
      }
    }
  }

  private changelogMessages(part: TaskPart, changes: readonly StoreChange[]): TopicMessages {
    return {
      topic: part.changelogTopic,
      // The changelog partition is the task's: same number as its source partitions.
      messages: changes.map((c) => ({ key: c.key, value: c.value, partition: this.partition })),
    };
  }

  private committed(
    source: TaskPart,
    chunk: ChunkWork,
    next: number,
    ends: ReadonlyMap<TaskPart, number | null>,
  ): void {
    for (const p of this.parts) {
      p.commit();
      p.changelogEnd = ends.get(p) ?? null;
    }
    source.nextOffset = next;
    const { metrics } = this.ctx;
    for (const [p, work] of chunk.byPart) {
      const changes = chunk.changes.get(p)?.length ?? 0;
      if (work.recordsIn === 0 && changes === 0 && work.output.isEmpty()) continue;
      const recordsOut = new Map([['changelog', changes]]);
      for (const { topic, messages } of work.output.topicMessages()) {
        const sink = p.sinkNames.get(topic) ?? 'other';
        recordsOut.set(sink, (recordsOut.get(sink) ?? 0) + messages.length);
      }
      metrics.chunkCommitted(p.name, {
        recordsIn: work.recordsIn,
        recordsOut,
        counters: work.output.counters,
        receivedAt: work.output.receivedAt,
      });
      if (work.evicted > 0) metrics.evicted(p.storeName, work.evicted);
    }
  }

  /**
   * EndTxn(commit) failed, so the transaction may or may not have committed. A new producer's
   * initialisation completes or aborts it; the group's committed offset then says which: the
   * chunk's end (committed: keep the overlays) or the chunk's start (aborted: drop them). Anything
   * else, or a failure here, means a rebuild.
   */
  private async settle(source: TaskPart, chunk: ChunkWork, next: number): Promise<ChunkOutcome> {
    try {
      await this.fence();
      const { admin, appId } = this.ctx;
      const committed = await committedOffset(admin, appId, source.source, this.partition);
      const ends = new Map<TaskPart, number | null>();
      for (const p of this.parts) ends.set(p, await highWatermark(admin, p.changelogTopic, this.partition));
      if (committed === next) {
        this.committed(source, chunk, next, ends);
        return 'committed';
      }
      if (committed === source.nextOffset) {
        for (const p of this.parts) {
          p.rollback();
          p.changelogEnd = ends.get(p) ?? null;
        }
        return 'retry';
      }
      this.ctx.logger.warn(
        { task: this.transactionalId, committed, expected: [source.nextOffset, next] },
        'committed offset moved unexpectedly; rebuilding the task',
      );
    } catch (error) {
      if (isFatalStateError(error)) throw error;
      this.ctx.logger.warn({ err: error, task: this.transactionalId }, 'could not settle a failed commit');
    }
    for (const p of this.parts) p.rollback();
    this.mustRebuild();
    return 'rebuild';
  }

  /**
   * Fenced, or a commit whose outcome could not be settled: the stores may differ from the
   * changelogs, so they are not kept by the next preparation, whatever suspends the task meanwhile.
   */
  private mustRebuild(): void {
    this.restored = false;
    // A task closed meanwhile is gone: its next owner restores from the changelogs anyway.
    if (this.lifecycle.state !== 'closed') this.lifecycle.suspend('rebuild');
  }
}

interface PartWork {
  output: BatchOutput;
  recordsIn: number;
  evicted: number;
}

interface ChunkWork {
  byPart: Map<TaskPart, PartWork>;
  changes: Map<TaskPart, StoreChange[]>;
}

function transactionalIdOf(appId: string, parts: readonly TaskPart[], partition: number): string {
  return parts.length === 1 ? `${appId}-${parts[0]!.name}-${partition}` : `${appId}-task-${partition}`;
}

/** Adds a process() output to a part's work (as is when the work has none yet: no copy). */
function absorb(work: PartWork, output: BatchOutput): void {
  if (work.output.isEmpty()) work.output = output;
  else work.output.append(output);
}

/** A record this task sent to its own source, as the input record that part reads. */
function asInputRecord(m: Message): KafkaMessage {
  const value = m.value;
  return {
    key: Buffer.from(m.key as string),
    value:
      value === null || value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value,
    // Not from the log: dropped-record reports name it "local".
    offset: 'local',
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  };
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
