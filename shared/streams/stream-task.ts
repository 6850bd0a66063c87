import type { Admin, Kafka, KafkaMessage, Message, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from '../logging/logger.ts';
import { BatchOutput } from './batch-output.ts';
import { carryDecoded } from './decoded-values.ts';
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
  /** A monotonic clock, ms (performance.now()): commit intervals, immune to wall-clock steps. */
  monotonicNow(): number;
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
  /** One transaction: the records, the input offsets, commit; throws TransactionFailed. */
  commit(topicMessages: TopicMessages[], offsets: readonly TransactionOffsets[]): Promise<RecordMetadata[]>;
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
 * How a chunk ended: `committed` (with every chunk pending before it); `pending` (processed into
 * the task's open transaction, which commits later: the caller moves on, offsets stay uncommitted);
 * `retry` (aborted: the open transaction's chunks are dropped, every store is back at the last
 * commit and the caller re-reads every part's source from its `nextOffset`); `rebuild` (fenced, or
 * a commit whose outcome could not be settled: the task must be fenced and restored again before
 * it processes anything); `not-running` (not started: while it waited for the task's previous
 * chunk, the task was suspended or closed; the caller re-reads from the part's `nextOffset` once
 * the task runs again); `stale` (not started: the consumer was seeked since the records were
 * fetched, so they may skip records a rollback dropped; the consumer reads them again).
 */
export type ChunkOutcome = 'committed' | 'pending' | 'retry' | 'rebuild' | 'not-running' | 'stale';

/**
 * When the task's open transaction commits (Kafka Streams' commit interval, with its record
 * cache: the stores' overlays keep one value per key until then, so a key written by many chunks
 * reaches the changelog once). A chunk commits the transaction when its source is caught up
 * (nothing more to read now: waiting would only add latency), when the transaction is
 * `intervalMs` old, or when it holds `maxRecords` input records; otherwise it stays open. An
 * `intervalMs` of 0 commits every chunk.
 *
 * `minSpacingMs` spaces a caught-up source's commits: one that comes sooner than that after the
 * task's previous commit began stays open until then (the caller's timer commits it, see
 * `commitDueAtMs`). A pipeline that keeps up then commits each task at most 1000 / minSpacingMs
 * times a second instead of at every fetch, and a quiet one still commits its first chunk at once.
 * The interval still applies, so a spacing longer than `intervalMs` is cut short (the processor's
 * config refuses one).
 */
export interface CommitPolicy {
  intervalMs: number;
  maxRecords: number;
  minSpacingMs: number;
}

/** What the caller knows about a chunk's records. */
export interface ChunkOptions {
  /** True when the chunk ends at its partition's high watermark: commit now. */
  caughtUp: boolean;
  /** True when the consumer was seeked since the records were fetched (kafkajs `isStale`). */
  isStale(): boolean;
}

const COMMIT_EVERY_CHUNK: CommitPolicy = {
  intervalMs: 0,
  maxRecords: Number.POSITIVE_INFINITY,
  minSpacingMs: 0,
};

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
 * Invariant: each part's committed store equals its changelog partition up to the last committed
 * transaction, and each part's `nextOffset` is the source offset that transaction committed for
 * the group. The task's open transaction holds the chunks processed since the last commit (of
 * either source): their outputs and state changes live in memory (BatchOutputs, the stores'
 * overlays) and nothing reaches the broker before the commit, which sends outputs, every part's
 * changelog changes and the offset of each source read at once; an abort, a suspension or a close
 * drops them all. Chunks of one task never overlap.
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
  /** The ids its parts had as tasks of their own were fenced (a task of several parts). */
  private legacyFenced = false;
  /** The open transaction's processed chunks, not committed yet. */
  private open: OpenTransaction | null = null;
  /** When the last commit began (ctx.monotonicNow()): caught-up commits are spaced from it. */
  private lastCommitStartedMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly parts: readonly TaskPart[],
    readonly partition: number,
    private readonly ctx: TaskContext,
    private readonly routing: LocalRouting | null = null,
    private readonly policy: CommitPolicy = COMMIT_EVERY_CHUNK,
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
   * fences the ids its parts had as tasks of their own (the first time), so transactions left open
   * by a build that ran one task per sub-topology are settled before this one reads the changelogs.
   */
  async fence(): Promise<void> {
    // A closed task must not take its id back from its next owner (a chunk still settling).
    if (this.lifecycle.state === 'closed') throw new Error(`task ${this.transactionalId} is closed`);
    const old = this.producer;
    this.producer = null;
    await old?.close();
    if (this.parts.length > 1 && !this.legacyFenced) {
      for (const part of this.parts) {
        const legacy = await this.ctx.createProducer(
          transactionalIdOf(this.ctx.appId, [part], this.partition),
        );
        await legacy.close();
      }
    }
    // An old-layout instance cannot join the group any more (the assignor), so no legacy
    // transaction can start after this: once per task is enough.
    this.legacyFenced = true;
    this.producer = await this.ctx.createProducer(this.transactionalId);
    this.fencedAtMs = null;
  }

  /** Drops every part's state (before a full restore). */
  clearState(): void {
    for (const part of this.parts) part.clearState();
    this.restored = false;
  }

  /**
   * Processes `records` of `source` (contiguous, all at or after its part's position) into the
   * task's open transaction, after the task's chunk in flight, and commits the transaction when
   * the policy says so. Only a running task starts a chunk; an assignment that suspends it
   * meanwhile does not stop a commit already started (the next preparation fences and settles it).
   */
  processChunk(
    source: string,
    records: readonly KafkaMessage[],
    options: ChunkOptions = { caughtUp: true, isStale: () => false },
  ): Promise<ChunkOutcome> {
    return this.serialised(() => this.runChunk(source, records, options));
  }

  /**
   * Commits the open transaction now (its interval elapsed and no chunk came to commit it). A task
   * that stopped running meanwhile drops it instead (`not-running`); nothing open: `committed`.
   */
  flush(): Promise<ChunkOutcome> {
    return this.serialised(async () => {
      if (this.open === null) return 'committed';
      if (this.lifecycle.state !== 'running') {
        this.dropOpen();
        return 'not-running';
      }
      return this.commitOpen();
    });
  }

  /**
   * Where `part`'s source is read next: after the open transaction's last chunk of it, else its
   * committed offset. Records below it are in the open transaction or committed.
   */
  positionOf(part: TaskPart): number {
    return this.open?.sources.get(part) ?? part.nextOffset;
  }

  /** True while processed chunks wait for the open transaction's commit. */
  get hasOpenTransaction(): boolean {
    return this.openSinceMs !== null;
  }

  /** When the open transaction started (ctx.monotonicNow()), or null. */
  get openSinceMs(): number | null {
    return this.open?.startedAtMs ?? null;
  }

  /**
   * When the open transaction must commit (ctx.monotonicNow()): its commit interval's end, or, once
   * it holds a caught-up chunk, the end of the spacing after the previous commit if that is sooner.
   * Null when nothing is open.
   */
  get commitDueAtMs(): number | null {
    const open = this.open;
    if (open === null) return null;
    const byInterval = open.startedAtMs + this.policy.intervalMs;
    if (!open.caughtUp) return byInterval;
    return Math.min(byInterval, this.lastCommitStartedMs + this.policy.minSpacingMs);
  }

  /**
   * Drops the open transaction (after the chunk in flight): the stores go back to the last commit.
   * A preparation calls it before deciding whether the state can be kept.
   */
  discardOpen(): Promise<void> {
    return this.serialised(async () => this.dropOpen());
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async runChunk(
    source: string,
    records: readonly KafkaMessage[],
    options: ChunkOptions,
  ): Promise<ChunkOutcome> {
    // The caller saw the task running; a chunk of its other source may have changed that since.
    if (this.lifecycle.state !== 'running') return 'not-running';
    // A rollback since the fetch seeked this source back: these records may start past the gap.
    if (options.isStale()) return 'stale';
    const part = this.bySource.get(source);
    if (part === undefined) throw new Error(`task ${this.transactionalId} does not read ${source}`);
    const open = (this.open ??= {
      sources: new Map(),
      byPart: new Map(
        this.parts.map((p) => [p, { output: new BatchOutput(), recordsIn: 0, inPlace: 0, evicted: 0 }]),
      ),
      records: 0,
      startedAtMs: this.ctx.monotonicNow(),
      started: process.hrtime.bigint(),
      caughtUp: false,
    });
    try {
      const chunk = await this.work(part, records);
      for (const [p, work] of chunk) {
        const into = open.byPart.get(p)!;
        absorb(into, work.output);
        into.recordsIn += work.recordsIn;
        into.inPlace += work.inPlace;
        into.evicted += work.evicted;
      }
    } catch (error) {
      this.dropOpen();
      if (isFatalStateError(error)) throw error;
      this.ctx.logger.warn(
        { err: error, task: this.transactionalId },
        'processing failed; retrying the chunk',
      );
      return 'retry';
    }
    open.sources.set(part, Number(records[records.length - 1]!.offset) + 1);
    open.records += records.length;
    const { intervalMs, maxRecords, minSpacingMs } = this.policy;
    const now = this.ctx.monotonicNow();
    const spaced = now - this.lastCommitStartedMs >= minSpacingMs;
    if ((options.caughtUp && spaced) || open.records >= maxRecords || now - open.startedAtMs >= intervalMs) {
      return this.commitOpen();
    }
    if (options.caughtUp) open.caughtUp = true;
    return 'pending';
  }

  /** One transaction: the open transaction's outputs, every part's changes, the source offset. */
  private async commitOpen(): Promise<ChunkOutcome> {
    const open = this.open!;
    this.open = null;
    this.lastCommitStartedMs = this.ctx.monotonicNow();
    const changes = new Map<TaskPart, StoreChange[]>();
    for (const p of this.parts) changes.set(p, p.changes());
    const messages: TopicMessages[] = [];
    for (const { output } of open.byPart.values()) messages.push(...output.topicMessages());
    for (const [p, list] of changes) if (list.length > 0) messages.push(this.changelogMessages(p, list));
    const offsets = [...open.sources].map(([p, offset]) => ({
      groupId: this.ctx.appId,
      topic: p.source,
      partition: this.partition,
      offset,
    }));
    // Metrics label: the sub-topology whose source opened the transaction.
    const stage = open.sources.keys().next().value!.name;
    let metadata: RecordMetadata[];
    try {
      if (this.producer === null || this.producer.broken) await this.fence();
      metadata = await this.producer!.commit(messages, offsets);
    } catch (error) {
      const outcome = error instanceof TransactionFailed ? error.outcome : 'aborted';
      this.ctx.metrics.transactionEnded(stage, outcome === 'aborted' ? 'abort' : outcome);
      this.ctx.logger.warn({ err: error, task: this.transactionalId, outcome }, 'transaction failed');
      if (outcome === 'unknown') return this.settle(open, changes);
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
      const count = changes.get(p)?.length ?? 0;
      ends.set(p, changelogEndFrom(metadata, p.changelogTopic, this.partition, p.changelogEnd, count));
    }
    this.committed(open, changes, ends);
    this.ctx.metrics.transactionEnded(stage, 'commit', Number(process.hrtime.bigint() - open.started) / 1e9);
    return 'committed';
  }

  /** Forgets the open transaction: its outputs and every store's uncommitted changes. */
  private dropOpen(): void {
    this.open = null;
    for (const p of this.parts) p.rollback();
  }

  /**
   * The chunk's work before its transaction: a sweep step of every part (its rows first: it
   * changed those keys' state before the chunk reads it), the chunk on its part, then records
   * sent to this task's own source partitions processed in place, hop by hop.
   */
  private async work(part: TaskPart, records: readonly KafkaMessage[]): Promise<Map<TaskPart, PartWork>> {
    const byPart = new Map<TaskPart, PartWork>();
    const now = this.ctx.now();
    for (const p of this.parts) {
      const output = new BatchOutput();
      const evicted = p.sweepStep(now, output);
      byPart.set(p, { output, recordsIn: 0, inPlace: 0, evicted });
    }
    const first = byPart.get(part)!;
    absorb(first, await part.process(records));
    first.recordsIn = records.length;
    let pending = this.takeLocal([...byPart.values()]);
    for (let hop = 1; pending.size > 0; hop++) {
      const produced: PartWork[] = [];
      for (const [p, local] of pending) {
        const work = byPart.get(p)!;
        absorb(work, await p.process(local));
        work.recordsIn += local.length;
        produced.push(work);
      }
      pending = hop < MAX_LOCAL_HOPS ? this.takeLocal(produced) : new Map();
    }
    return byPart;
  }

  /**
   * Takes out of the works' outputs the records sent to one of this task's sources that land on
   * its own partition, as input records for that part (counted as the sender's `inPlace`).
   * Without local routing (a task per sub-topology), nothing.
   */
  private takeLocal(works: readonly PartWork[]): Map<TaskPart, KafkaMessage[]> {
    const local = new Map<TaskPart, KafkaMessage[]>();
    const routing = this.routing;
    if (routing === null) return local;
    for (const work of works) {
      const output = work.output;
      for (const [source, part] of this.bySource) {
        // Each record's partition is fixed here (kafkajs then skips hashing its key again).
        const taken = output.take(source, (m) => {
          m.partition ??= routing.partitionOf(source, m.key as string);
          return m.partition === this.partition;
        });
        if (taken.length === 0) continue;
        work.inPlace += taken.length;
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
    this.open = null;
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
    open: OpenTransaction,
    changes: ReadonlyMap<TaskPart, readonly StoreChange[]>,
    ends: ReadonlyMap<TaskPart, number | null>,
  ): void {
    for (const p of this.parts) {
      p.commit();
      p.changelogEnd = ends.get(p) ?? null;
    }
    for (const [p, next] of open.sources) p.nextOffset = next;
    const { metrics } = this.ctx;
    for (const [p, work] of open.byPart) {
      const written = changes.get(p)?.length ?? 0;
      if (work.recordsIn === 0 && work.inPlace === 0 && written === 0 && work.output.isEmpty()) continue;
      const recordsOut = new Map([['changelog', written]]);
      for (const { topic, messages } of work.output.topicMessages()) {
        const sink = p.sinkNames.get(topic) ?? 'other';
        recordsOut.set(sink, (recordsOut.get(sink) ?? 0) + messages.length);
      }
      metrics.chunkCommitted(p.name, {
        recordsIn: work.recordsIn,
        recordsOut,
        recordsInPlace: work.inPlace,
        counters: work.output.counters,
        receivedAt: work.output.receivedAt,
      });
      if (work.evicted > 0) metrics.evicted(p.storeName, work.evicted);
    }
  }

  /**
   * EndTxn(commit) failed, so the transaction may or may not have committed. A new producer's
   * initialisation completes or aborts it; the group's committed offsets then say which: every
   * source read at the transaction's end (committed: keep the overlays) or every one at its start
   * (aborted: drop them). Anything else, or a failure here, means a rebuild.
   */
  private async settle(
    open: OpenTransaction,
    changes: ReadonlyMap<TaskPart, readonly StoreChange[]>,
  ): Promise<ChunkOutcome> {
    const sources = [...open.sources];
    try {
      await this.fence();
      const { admin, appId } = this.ctx;
      const committed = await Promise.all(
        sources.map(([p]) => committedOffset(admin, appId, p.source, this.partition)),
      );
      const ends = new Map<TaskPart, number | null>();
      for (const p of this.parts) ends.set(p, await highWatermark(admin, p.changelogTopic, this.partition));
      if (sources.every(([, next], i) => committed[i] === next)) {
        this.committed(open, changes, ends);
        return 'committed';
      }
      if (sources.every(([p], i) => committed[i] === p.nextOffset)) {
        for (const p of this.parts) {
          p.rollback();
          p.changelogEnd = ends.get(p) ?? null;
        }
        return 'retry';
      }
      this.ctx.logger.warn(
        {
          task: this.transactionalId,
          committed,
          expected: sources.map(([p, next]) => [p.source, p.nextOffset, next]),
        },
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
  /** Records this part sent to the task's own source partitions, processed in place. */
  inPlace: number;
  evicted: number;
}

/** Chunks processed since the last commit. */
interface OpenTransaction {
  /** Each source part read, and its offset after its last chunk's records. */
  sources: Map<TaskPart, number>;
  byPart: Map<TaskPart, PartWork>;
  /** Input records read from the sources (in-place records not counted). */
  records: number;
  startedAtMs: number;
  started: bigint;
  /** A chunk ended at its source's high watermark: commit once the spacing allows. */
  caughtUp: boolean;
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
  const record: KafkaMessage = {
    key: Buffer.from(m.key as string),
    value:
      value === null || value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value,
    // Not from the log: dropped-record reports name it "local".
    offset: 'local',
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  };
  // The object the value was encoded from, if its writer attached it: the reader skips decoding.
  carryDecoded(m, record);
  return record;
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
