import { setTimeout as sleep } from 'node:timers/promises';
import type { EachBatchPayload } from 'kafkajs';
import { partitionForKey } from '../kafka/murmur2.ts';
import { backoffDelayMs, fullDelay } from '../retry/capped-backoff.ts';
import { readChangelogsToEnd, type ChangelogPartition } from './changelog-reader.ts';
import { committedOffsets, topicBounds, type PartitionBounds } from './offsets.ts';
import { isFatalStateError } from './stores/committed-storage.ts';
import { StreamTask, type LocalRouting, type TaskContext } from './stream-task.ts';
import type { TaskPart } from './task-part.ts';
import type { Topology } from './topology.ts';

export interface TaskManagerOptions {
  ctx: TaskContext;
  topology: Topology;
  /** The consumer's seek: where the group consumer reads a partition from next. */
  seek(topic: string, partition: number, offset: number): void;
  /** Records per transaction; a larger fetched batch is split (keeps transactions and rebalances short). */
  maxRecordsPerTransaction: number;
  /**
   * Longest a task's transaction stays open while its source has more to read, ms (Kafka Streams'
   * commit.interval.ms); 0 commits every chunk. A caught-up source commits at once, unless the
   * task's previous commit began less than `commitMinSpacingMs` ago (then when that has passed).
   */
  commitIntervalMs: number;
  commitMinSpacingMs: number;
  restoreTimeoutMs: number;
  /**
   * After a task was fenced by another owner, wait this long for the rebalance that explains it
   * before taking the task back (which would fence the other owner in turn), ms.
   */
  fencedBackoffMs: number;
  /** State this build cannot read, or a consumer that gave up: the process must stop. */
  onFatal(error: unknown): void;
}

class Cancelled extends Error {}

/** Between retries of a failed chunk or preparation: 200, 400, 800 ms ... up to 5 s. */
const RETRY_BACKOFF = { initialMs: 200, maxMs: 5_000 };

/**
 * The tasks of this instance and their life cycle, driven by the group consumer:
 * - on every assignment (kafkajs GROUP_JOIN; rebalancing is eager, so it lists everything this
 *   instance now owns) the tasks that left are closed and each owned task is prepared:
 *   1. its producer is re-initialised, fencing any zombie and settling every earlier
 *      transaction of its id (ours included);
 *   2. the group's committed offset of each of its source partitions is read (settled by step 1);
 *   3. the state is kept when it provably matches (same committed offsets and changelog ends as
 *      this task last left them), else cleared and restored from its changelog partitions,
 *      read_committed, up to their high watermarks;
 *   4. the consumer is seeked to the committed offsets;
 *   steps run in one chain, so preparations never overlap, and a newer assignment cancels an
 *   older preparation;
 * - `handleBatch` (eachBatch) waits for its task to be ready, heartbeating, then processes the
 *   batch in chunks into the task's open transaction, which commits when the source is caught up,
 *   the commit interval elapsed or it holds `maxRecordsPerTransaction` records (a timer commits
 *   an open transaction no chunk came to commit). Offsets are resolved as chunks are processed
 *   (the consumer's position only: the group offset moves in the transaction); on an abort every
 *   source of the task is seeked back to its last committed offset.
 */
export class TaskManager {
  private readonly tasks = new Map<string, StreamTask>();
  private assigned = new Set<string>();
  private epoch = 0;
  private controller = new AbortController();
  private chain: Promise<void> = Promise.resolve();
  private wake = deferred();
  private joined = false;

  private readonly routing: LocalRouting | null;
  /** Tasks whose open transaction a timer will commit. */
  private readonly flushTimers = new Map<StreamTask, { timer: NodeJS.Timeout; dueAtMs: number }>();
  /**
   * Seeks this manager issued, per `topic:partition`. A batch entered before a seek of its
   * partition is refused as stale even if kafkajs has cleared its own pending seek meanwhile (a
   * leader move lets another broker's fetch apply it while the batch waits).
   */
  private readonly seekCounts = new Map<string, number>();

  constructor(private readonly options: TaskManagerOptions) {
    const layout = options.topology.tasks;
    this.routing = layout.kind === 'per-partition' ? keyRouting(layout.partitions) : null;
  }

  /** A new assignment (the member's partitions per topic) from GROUP_JOIN. */
  onAssignment(assignment: Record<string, number[]>): void {
    const { topology } = this.options;
    this.joined = true;
    this.epoch += 1;
    const epoch = this.epoch;
    this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const assigned = new Set<string>();
    for (const { source } of topology.subTopologies) {
      for (const partition of assignment[source] ?? []) assigned.add(this.taskIdOf(source, partition));
    }
    const torn = tornPartitions(topology, assignment);
    if (torn.length > 0) {
      // Another member would run the same task: two owners of one store. Never run like that.
      this.options.onFatal(
        new Error(
          `assignment splits co-partitioned sources (partitions ${torn.join(', ')}): every member of ` +
            'the group must use the co-partitioned assigner (stop instances of an older build)',
        ),
      );
      return;
    }
    this.assigned = assigned;
    // A task that left is closing (its producer disconnecting): nothing to suspend.
    for (const task of this.tasks.values()) {
      if (task.lifecycle.state !== 'closed') task.lifecycle.suspend('reassigned');
    }
    this.options.ctx.logger.info({ epoch, tasks: [...assigned] }, 'assignment received; preparing tasks');
    void this.enqueue(controller.signal, async () => {
      for (const [id, task] of this.tasks) {
        if (assigned.has(id)) continue;
        this.tasks.delete(id);
        await task.close();
        // Its new owner reports this partition's lag now; a stale series here would be summed with it.
        for (const part of task.parts)
          this.options.ctx.metrics.consumerLag(part.source, task.partition, null);
      }
      for (const id of assigned) if (!this.tasks.has(id)) this.tasks.set(id, this.createTask(id));
      // Only tasks not ready yet: on a retry, the tasks a failed attempt already made ready are
      // processing, and re-preparing them under their feet would race their commits.
      const pending = [...this.tasks.values()].filter((t) => t.lifecycle.state !== 'running');
      await this.prepare(pending, epoch, controller.signal);
    });
  }

  /** kafkajs eachBatch (autoCommit off, eachBatchAutoResolve off). */
  readonly handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, resolveOffset, heartbeat, isRunning } = payload;
    const seeksAtEntry = this.seekCount(batch.topic, batch.partition);
    const isStale = (): boolean =>
      payload.isStale() || this.seekCount(batch.topic, batch.partition) !== seeksAtEntry;
    const task = await this.readyTask(this.taskIdOf(batch.topic, batch.partition), heartbeat, isRunning);
    if (task === undefined || isStale()) return;
    const part = task.part(batch.topic);
    if (part === undefined) throw new Error(`task ${task.transactionalId} does not read ${batch.topic}`);
    if (task.lifecycle.needsRebuild) {
      await this.rebuild(task, heartbeat);
      return;
    }
    const last = batch.messages[batch.messages.length - 1];
    if (last !== undefined) {
      this.options.ctx.metrics.consumerLag(
        batch.topic,
        batch.partition,
        Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1),
      );
    }
    // Records below the position are committed (a consumer position read before our fence may lag
    // behind the settled commit) or already in the open transaction.
    const position = task.positionOf(part);
    const fresh = batch.messages.filter((m) => Number(m.offset) >= position);
    if (fresh.length === 0) {
      if (last !== undefined) resolveOffset(last.offset);
      return;
    }
    const max = this.options.maxRecordsPerTransaction;
    for (let i = 0; i < fresh.length; i += max) {
      if (!isRunning() || isStale() || task.lifecycle.state !== 'running') return;
      const chunk = fresh.slice(i, i + max);
      const lastOffset = Number(chunk[chunk.length - 1]!.offset);
      // One offset of slack: a transactional source's last record is followed by its commit marker.
      const caughtUp = Number(batch.highWatermark) - lastOffset - 1 <= 1;
      let outcome;
      try {
        outcome = await task.processChunk(batch.topic, chunk, { caughtUp, isStale });
      } catch (error) {
        this.options.onFatal(error);
        return;
      }
      if (outcome === 'committed' || outcome === 'pending') {
        if (outcome === 'committed') task.failures = 0;
        else this.scheduleFlush(task);
        // The consumer's position only (autoCommit is off): the transaction moves the group's offset.
        resolveOffset(chunk[chunk.length - 1]!.offset);
        await heartbeat();
        continue;
      }
      // Seeked since the fetch: kafkajs reads from the seeked offset next.
      if (outcome === 'stale') return;
      // Re-read from the last committed offsets; the stores are already back at that commit (or,
      // not-running, the next preparation seeks them again).
      this.rewind(task);
      if (outcome === 'retry') {
        task.failures += 1;
        await sleep(backoffDelayMs(task.failures, RETRY_BACKOFF, fullDelay));
      }
      return;
    }
  };

  /** True once the instance joined the group and every task it owns is ready. */
  isReady(): boolean {
    if (!this.joined) return false;
    for (const id of this.assigned) if (this.tasks.get(id)?.lifecycle.state !== 'running') return false;
    return true;
  }

  /** Committed keys per store across this instance's tasks. */
  stateSize(): Record<string, number> {
    const size: Record<string, number> = {};
    for (const { name } of this.options.topology.subTopologies) size[name] = 0;
    for (const task of this.tasks.values()) {
      for (const part of task.parts) size[part.name] = (size[part.name] ?? 0) + part.stateSize;
    }
    return size;
  }

  /** Cancels any preparation and closes every task's producer (the consumer is stopped first). */
  async close(): Promise<void> {
    for (const { timer } of this.flushTimers.values()) clearTimeout(timer);
    this.flushTimers.clear();
    this.controller.abort();
    await this.chain;
    await Promise.all([...this.tasks.values()].map((t) => t.close()));
    this.tasks.clear();
  }

  /** A task per source partition, or per partition for co-partitioned sub-topologies. */
  private taskIdOf(source: string, partition: number): string {
    return this.options.topology.tasks.kind === 'per-partition' ? `#${partition}` : `${source}#${partition}`;
  }

  private createTask(id: string): StreamTask {
    const { topology, ctx } = this.options;
    const [source, partitionText] = splitTaskId(id);
    const partition = Number(partitionText);
    const nodes =
      topology.tasks.kind === 'per-partition'
        ? topology.subTopologies
        : topology.subTopologies.filter((n) => n.source === source);
    if (nodes.length === 0) throw new Error(`no sub-topology reads ${source}`);
    return new StreamTask(
      nodes.map((n) => n.createPart(partition, ctx)),
      partition,
      ctx,
      this.routing,
      {
        intervalMs: this.options.commitIntervalMs,
        maxRecords: this.options.maxRecordsPerTransaction,
        minSpacingMs: this.options.commitMinSpacingMs,
      },
    );
  }

  /** Every source of `task` reads again from its last committed offset. */
  private rewind(task: StreamTask): void {
    for (const part of task.parts) this.seekTo(part.source, task.partition, part.nextOffset);
  }

  private seekTo(topic: string, partition: number, offset: number): void {
    const key = `${topic}:${partition}`;
    this.seekCounts.set(key, (this.seekCounts.get(key) ?? 0) + 1);
    this.options.seek(topic, partition, offset);
  }

  private seekCount(topic: string, partition: number): number {
    return this.seekCounts.get(`${topic}:${partition}`) ?? 0;
  }

  /**
   * Commits `task`'s open transaction when it is due (its commit interval ends, or the spacing after
   * a caught-up chunk does), unless a chunk does it first. A timer already set for a later time is
   * brought forward.
   */
  private scheduleFlush(task: StreamTask): void {
    const due = task.commitDueAtMs;
    if (due === null) return;
    const set = this.flushTimers.get(task);
    if (set !== undefined) {
      if (set.dueAtMs <= due) return;
      clearTimeout(set.timer);
    }
    const { ctx } = this.options;
    const timer = setTimeout(
      () => {
        this.flushTimers.delete(task);
        const current = task.commitDueAtMs;
        if (current === null) return;
        // Committed since, and a newer transaction opened: its own due time counts.
        if (current > ctx.monotonicNow()) return this.scheduleFlush(task);
        void this.flushOpen(task);
      },
      Math.max(0, due - ctx.monotonicNow()),
    );
    this.flushTimers.set(task, { timer, dueAtMs: due });
  }

  private async flushOpen(task: StreamTask): Promise<void> {
    let outcome;
    try {
      outcome = await task.flush();
    } catch (error) {
      this.options.onFatal(error);
      return;
    }
    if (outcome === 'committed') task.failures = 0;
    // Aborted or fenced: the dropped chunks are read again (a suspended task is seeked by its preparation).
    else if (outcome === 'retry' || outcome === 'rebuild') {
      if (outcome === 'retry') task.failures += 1;
      try {
        this.rewind(task);
      } catch (error) {
        // The consumer is stopping (or restarting after a crash): it reads from the committed
        // offsets when it runs again, so nothing is skipped; only a timer outlived it.
        this.options.ctx.logger.warn(
          { err: error, task: task.transactionalId },
          'could not seek back after a failed commit; the consumer is not running',
        );
      }
    }
  }

  /** Steps 1–4 of the class comment for `tasks`; throws Cancelled when a newer assignment came. */
  private async prepare(tasks: StreamTask[], epoch: number, signal: AbortSignal): Promise<void> {
    const { ctx } = this.options;
    const check = (): void => {
      if (signal.aborted) throw new Cancelled();
    };
    if (tasks.length === 0) return;
    for (const task of tasks) task.lifecycle.startRestoring();
    // Processed chunks not committed are dropped: the state to keep or restore is the committed one.
    await Promise.all(tasks.map((t) => t.discardOpen()));
    await Promise.all(tasks.map((t) => t.fence()));
    check();
    const committed = new Map<string, Map<number, number>>();
    const bounds = new Map<string, Map<number, PartitionBounds>>();
    const parts = tasks.flatMap((t) => t.parts);
    await Promise.all([
      ...unique(parts.map((p) => p.source)).map(async (topic) =>
        committed.set(topic, await committedOffsets(ctx.admin, ctx.appId, topic)),
      ),
      ...unique(parts.map((p) => p.changelogTopic)).map(async (topic) =>
        bounds.set(topic, await topicBounds(ctx.admin, topic)),
      ),
    ]);
    check();
    const plan = tasks.map((task) => {
      const positions = task.parts.map((part) => {
        const offset = committed.get(part.source)?.get(task.partition);
        const end = bounds.get(part.changelogTopic)?.get(task.partition);
        if (offset === undefined || end === undefined) {
          throw new Error(`no offsets for ${part.source}/${task.partition} or its changelog`);
        }
        return { part, offset, end };
      });
      const keep =
        task.restored &&
        positions.every((p) => p.part.nextOffset === p.offset && p.part.changelogEnd === p.end.high);
      return { task, positions, keep };
    });
    const makeReady = (entries: typeof plan): void => {
      for (const { task, positions } of entries) {
        for (const { part, offset, end } of positions) {
          part.nextOffset = offset;
          part.changelogEnd = end.high;
          this.seekTo(part.source, task.partition, offset);
        }
        task.restored = true;
        task.failures = 0;
        task.lifecycle.markRunning();
      }
      this.notify();
    };
    // Tasks whose state is provably current resume at once, while the others restore.
    makeReady(plan.filter((p) => p.keep));
    const toRestore = plan.filter((p) => !p.keep);
    for (const { task } of toRestore) task.clearState();
    if (toRestore.length > 0) {
      const started = Date.now();
      const byPartition = new Map<string, TaskPart>();
      const partitions: ChangelogPartition[] = [];
      for (const { task, positions } of toRestore) {
        for (const { part, end } of positions) {
          byPartition.set(`${part.changelogTopic}:${task.partition}`, part);
          partitions.push({
            topic: part.changelogTopic,
            partition: task.partition,
            startOffset: end.low,
            endOffset: end.high,
          });
        }
      }
      const applied = await readChangelogsToEnd({
        kafka: ctx.kafka,
        admin: ctx.admin,
        groupIdPrefix: ctx.appId,
        partitions,
        timeoutMs: this.options.restoreTimeoutMs,
        signal,
        onRecord: (topic, partition, key, value) =>
          byPartition.get(`${topic}:${partition}`)?.restoreRecord(key, value),
      });
      for (const part of byPartition.values()) part.finishRestore();
      check();
      const seconds = (Date.now() - started) / 1000;
      ctx.metrics.restored(seconds, applied);
      ctx.logger.info(
        {
          tasks: toRestore.map((p) => p.task.transactionalId),
          records: applied,
          seconds,
          keys: this.stateSize(),
        },
        'state restored from changelogs',
      );
    }
    makeReady(toRestore);
    ctx.logger.info(
      { epoch, kept: plan.filter((p) => p.keep).length, restored: toRestore.length },
      'tasks ready',
    );
  }

  /** Runs `work` after every earlier preparation, retrying until it succeeds or is cancelled. */
  private enqueue(signal: AbortSignal, work: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await work();
          return;
        } catch (error) {
          if (signal.aborted || error instanceof Cancelled) return;
          if (isFatalStateError(error)) {
            this.options.onFatal(error);
            return;
          }
          this.options.ctx.logger.warn({ err: error, attempt }, 'task preparation failed; retrying');
          // Cut short by a newer assignment or close(): a stop never waits out the backoff.
          await sleep(backoffDelayMs(attempt + 1, RETRY_BACKOFF, fullDelay), undefined, { signal }).catch(
            () => undefined,
          );
        }
      }
    };
    this.chain = this.chain.then(run).finally(() => this.notify());
    return this.chain;
  }

  /** Fenced or unsettled: prepare the task again (after the fence backoff). */
  private async rebuild(task: StreamTask, heartbeat: () => Promise<void>): Promise<void> {
    const { fencedBackoffMs, ctx } = this.options;
    if (task.fencedAtMs !== null && ctx.now() - task.fencedAtMs < fencedBackoffMs) {
      await sleep(500);
      return;
    }
    const epoch = this.epoch;
    const signal = this.controller.signal;
    // Both sources of a task may ask at once: the second finds it prepared (running) already.
    const done = this.enqueue(signal, async () => {
      if (task.lifecycle.needsRebuild) await this.prepare([task], epoch, signal);
    });
    await this.whileHeartbeating(done, heartbeat);
  }

  private async readyTask(
    id: string,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ): Promise<StreamTask | undefined> {
    for (;;) {
      const task = this.tasks.get(id);
      // A task to rebuild is handed out too: handleBatch then prepares it again.
      if (task !== undefined && (task.lifecycle.state === 'running' || task.lifecycle.needsRebuild))
        return task;
      if (!isRunning()) return undefined;
      // A restore can take longer than the session timeout: keep the membership alive. A
      // rebalance makes heartbeat() throw, which ends this batch and lets kafkajs rejoin.
      await Promise.race([this.wake.promise, sleep(1_000)]);
      await heartbeat();
    }
  }

  private async whileHeartbeating(work: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    void work.finally(() => (done = true));
    while (!done) {
      await Promise.race([work, sleep(1_000)]);
      if (!done) await heartbeat();
    }
  }

  private notify(): void {
    this.wake.resolve();
    this.wake = deferred();
  }
}

function splitTaskId(id: string): [string, string] {
  const at = id.lastIndexOf('#');
  return [id.slice(0, at), id.slice(at + 1)];
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Local routing by key, as the tasks' producers partition (kafkajs's DefaultPartitioner: murmur2
 * of the key, like the Java client), for sources of `partitions` partitions. The 32-bit murmur2
 * gives the same partition as kafkajs's 64-bit Long emulation (tested), at a fraction of its cost
 * (it was 4% of the processor's CPU, called once per unit message).
 */
function keyRouting(partitions: number): LocalRouting {
  return { partitionOf: (_topic, key) => partitionForKey(Buffer.from(key), partitions) };
}

/** Partitions of which a per-partition topology got some sources but not all. */
function tornPartitions(topology: Topology, assignment: Record<string, number[]>): number[] {
  if (topology.tasks.kind !== 'per-partition') return [];
  const sources = topology.subTopologies.map((n) => n.source);
  const all = new Set(sources.flatMap((s) => assignment[s] ?? []));
  return [...all]
    .filter((p) => !sources.every((s) => (assignment[s] ?? []).includes(p)))
    .sort((a, b) => a - b);
}
