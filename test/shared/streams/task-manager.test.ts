import { setTimeout as sleep } from 'node:timers/promises';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { LiftstreamError } from '../../../shared/errors.ts';
import type { StreamTask } from '../../../shared/streams/stream-task.ts';
import { TaskManager } from '../../../shared/streams/task-manager.ts';
import { subTopology, type Topology } from '../../../shared/streams/topology.ts';
import {
  committedCounts,
  CORRUPT,
  counterTopology,
  FakeCluster,
  fakeContext,
  record,
  records,
  THROW,
  waitFor,
} from '../../helpers/streams/fakes.ts';

/**
 * Two sub-topologies (a counter per key over clicks, with 2 partitions, and one over views, with 1),
 * over a fake cluster whose changelogs retain nothing (log start == end): a preparation never needs
 * a restore consumer, so the Kafka client is never touched.
 */
function setup(
  options: {
    fencedBackoffMs?: number;
    commitIntervalMs?: number;
    commitMinSpacingMs?: number;
    maxRecordsPerTransaction?: number;
  } = {},
) {
  const cluster = new FakeCluster('app')
    .topic('clicks', [
      { low: 0, high: 100 },
      { low: 2, high: 100 },
    ])
    .topic('views', [{ low: 0, high: 100 }])
    .topic(
      'count-changelog',
      [
        { low: 7, high: 7 },
        { low: 0, high: 0 },
      ],
      { retainsNothing: true },
    )
    .topic('sum-changelog', [{ low: 0, high: 0 }], { retainsNothing: true })
    .topic('click-totals', [{ low: 0, high: 0 }])
    .topic('view-totals', [{ low: 0, high: 0 }]);
  // clicks/0 committed at 5; clicks/1 and views/0 never committed (read from their log start).
  cluster.commitOffset('clicks', 0, 5);
  const fake = fakeContext(cluster);
  const seeks: [string, number, number][] = [];
  // kafkajs's consumer.seek throws once the consumer is stopped (its group is gone).
  const consumer = { stopped: false };
  const fatal: unknown[] = [];
  const manager = new TaskManager({
    ctx: fake.ctx,
    topology: {
      subTopologies: [
        subTopology(
          counterTopology({
            name: 'count',
            source: 'clicks',
            changelog: 'count-changelog',
            sink: 'click-totals',
          }),
        ),
        subTopology(
          counterTopology({
            name: 'sum',
            source: 'views',
            changelog: 'sum-changelog',
            sink: 'view-totals',
          }),
        ),
      ],
      tasks: { kind: 'per-sub-topology' },
    },
    seek: (topic, partition, offset) => {
      if (consumer.stopped)
        throw new Error('Consumer group was not initialized, consumer#run must be called first');
      seeks.push([topic, partition, offset]);
    },
    maxRecordsPerTransaction: options.maxRecordsPerTransaction ?? 2,
    // By default every chunk commits (the open transaction across chunks has tests of its own).
    commitIntervalMs: options.commitIntervalMs ?? 0,
    commitMinSpacingMs: options.commitMinSpacingMs ?? 0,
    restoreTimeoutMs: 1_000,
    fencedBackoffMs: options.fencedBackoffMs ?? 0,
    onFatal: (error) => fatal.push(error),
  });
  managers.push(manager);
  const tasks = recordTasks(manager);
  const task = (id: string): StreamTask => {
    const found = tasks.filter((t) => t.transactionalId === id);
    expect(found, `one task ${id}`).toHaveLength(1);
    return found[0]!;
  };
  return { manager, cluster, tasks, task, seeks, fatal, consumer, ...fake };
}

/**
 * Every task `manager` creates, in order (closed ones included): its private createTask, wrapped.
 * The manager forgets a task once it left; a test keeps looking at it here.
 */
function recordTasks(manager: TaskManager): StreamTask[] {
  const tasks: StreamTask[] = [];
  const internals = manager as unknown as { createTask(id: string): StreamTask };
  const createTask = internals.createTask.bind(manager);
  internals.createTask = (id) => {
    const task = createTask(id);
    tasks.push(task);
    return task;
  };
  return tasks;
}

const managers: TaskManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

const ALL = { clicks: [0, 1], views: [0] };

async function assigned(manager: TaskManager, assignment: Record<string, number[]>): Promise<void> {
  manager.onAssignment(assignment);
  await waitFor(() => manager.isReady(), 'the assignment to be ready');
}

/** A kafkajs eachBatch payload for `messages`, recording resolved offsets into `events`. */
function batchOf(
  topic: string,
  partition: number,
  messages: KafkaMessage[],
  events: string[],
  highWatermark = 100,
) {
  const resolved: string[] = [];
  let heartbeats = 0;
  const payload = {
    batch: { topic, partition, messages, highWatermark: String(highWatermark) },
    resolveOffset: (offset: string) => {
      resolved.push(offset);
      events.push(`resolve ${offset}`);
    },
    heartbeat: async () => {
      heartbeats += 1;
    },
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload, resolved, heartbeats: () => heartbeats };
}

describe('TaskManager', () => {
  it('prepares every assigned task: a producer each, seeked to its committed offset, running', async () => {
    const { manager, cluster, tasks, seeks, metrics } = setup();
    expect(manager.isReady(), 'not before the first assignment').toBe(false);

    manager.onAssignment({ ...ALL, unrelated: [0] });
    expect(manager.isReady(), 'not before the preparation').toBe(false);
    await waitFor(() => manager.isReady(), 'the assignment to be ready');

    expect(tasks.map((t) => [t.transactionalId, t.lifecycle.state])).toEqual([
      ['app-count-0', 'running'],
      ['app-count-1', 'running'],
      ['app-sum-0', 'running'],
    ]);
    expect(cluster.producers.map((p) => p.transactionalId).sort()).toEqual([
      'app-count-0',
      'app-count-1',
      'app-sum-0',
    ]);
    expect(seeks.sort(), 'the committed offset, or the log start when none').toEqual([
      ['clicks', 0, 5],
      ['clicks', 1, 2],
      ['views', 0, 0],
    ]);
    expect(tasks.map((t) => [t.parts[0]!.nextOffset, t.parts[0]!.changelogEnd, t.restored])).toEqual([
      [5, 7, true],
      [2, 0, true],
      [0, 0, true],
    ]);
    expect(manager.stateSize()).toEqual({ count: 0, sum: 0 });
    expect(
      metrics.restores.map((r) => r.records),
      'an empty changelog restores nothing',
    ).toEqual([0]);
  });

  it('a preparation that fails is retried until every task runs', async () => {
    const { manager, cluster, tasks } = setup();
    cluster.failNextCreate = new Error('coordinator not available');

    await assigned(manager, ALL);

    expect(tasks.map((t) => t.lifecycle.state)).toEqual(['running', 'running', 'running']);
    const open = cluster.producers.filter((p) => !p.closed).map((p) => p.transactionalId);
    expect(open.sort(), 'one open producer per task').toEqual(['app-count-0', 'app-count-1', 'app-sum-0']);
  });

  it('close does not wait out the backoff of a preparation that keeps failing', async () => {
    const { manager, cluster } = setup();
    let failures = 0;
    // Every producer creation fails: the preparation retries after 200, 400, 800, 1,600 ms ...
    Object.defineProperty(cluster, 'failNextCreate', {
      get: () => (failures++, new Error('coordinator not available')),
      set: () => undefined,
    });
    manager.onAssignment(ALL);
    // Each attempt fences the three tasks at once: three creations. After four, the next backoff is 1.6 s.
    await waitFor(() => failures >= 12, 'four failed attempts', 3_000);

    const started = Date.now();
    await manager.close();
    expect(Date.now() - started, 'close returns without waiting for the 1.6 s backoff').toBeLessThan(1_000);
    const attempts = failures;
    await new Promise((r) => setTimeout(r, 250));
    expect(failures, 'no attempt after close').toBe(attempts);
  });

  it('handleBatch commits chunks of maxRecordsPerTransaction, resolving offsets only after each commit', async () => {
    const { manager, cluster, metrics, task } = setup();
    await assigned(manager, ALL);
    const { payload, resolved, heartbeats } = batchOf(
      'clicks',
      0,
      records(5, 'a', 'b', 'a', 'c', 'a'),
      cluster.events,
      20,
    );

    await manager.handleBatch(payload);

    expect(cluster.events, 'each offset resolved after its transaction committed').toEqual([
      'commit 7',
      'resolve 6',
      'commit 9',
      'resolve 8',
      'commit 10',
      'resolve 9',
    ]);
    expect(resolved).toEqual(['6', '8', '9']);
    expect(
      cluster.transactions.map((t) => t.topicMessages[0]!.messages.map((m) => m.key)),
      'chunks of two records',
    ).toEqual([['a', 'b'], ['a', 'c'], ['a']]);
    expect(heartbeats()).toBeGreaterThanOrEqual(3);
    expect(cluster.committedOffset('clicks', 0)).toBe(10);
    expect(task('app-count-0').parts[0]!.nextOffset).toBe(10);
    expect(manager.stateSize()).toEqual({ count: 3, sum: 0 });
    expect(metrics.lags, 'lag after the batch: high watermark - last offset - 1').toContainEqual({
      topic: 'clicks',
      partition: 0,
      lag: 20 - 9 - 1,
    });
    expect(metrics.chunks.map((c) => c.chunk.recordsIn)).toEqual([2, 2, 1]);
  });

  it('a batch that arrives before its task is ready waits for the preparation, heartbeating, and is then refused: the preparation seeked its partition', async () => {
    const { manager, cluster, seeks } = setup();
    manager.onAssignment(ALL);
    const early = batchOf('clicks', 1, records(2, 'a', 'b'), cluster.events);

    await manager.handleBatch(early.payload);

    expect(manager.isReady()).toBe(true);
    expect(early.heartbeats(), 'heartbeats while waiting').toBeGreaterThanOrEqual(1);
    // Fetched before the seek to the committed offset (kafkajs would call it stale too): read again.
    expect(seeks).toContainEqual(['clicks', 1, 2]);
    expect(early.resolved).toEqual([]);
    expect(cluster.transactions).toEqual([]);

    const again = batchOf('clicks', 1, records(2, 'a', 'b'), cluster.events);
    await manager.handleBatch(again.payload);
    expect(again.resolved).toEqual(['3']);
    expect(cluster.transactions.map((t) => [t.transactionalId, t.offsets[0]!.offset])).toEqual([
      ['app-count-1', 4],
    ]);
  });

  it('handleBatch skips records below the committed offset', async () => {
    const { manager, cluster } = setup();
    await assigned(manager, ALL);

    const old = batchOf('clicks', 0, records(1, 'x', 'y', 'z', 'w'), cluster.events);
    await manager.handleBatch(old.payload);
    expect(old.resolved, 'all committed before: resolved, not processed').toEqual(['4']);
    expect(cluster.transactions).toHaveLength(0);

    const straddling = batchOf('clicks', 0, records(3, 'x', 'y', 'a', 'b', 'c'), cluster.events);
    await manager.handleBatch(straddling.payload);
    expect(cluster.transactions.map((t) => t.topicMessages[0]!.messages.map((m) => m.key))).toEqual([
      ['a', 'b'],
      ['c'],
    ]);
    expect(cluster.transactions.map((t) => t.offsets[0]!.offset)).toEqual([7, 8]);
    expect(straddling.resolved).toEqual(['6', '7']);
    expect(manager.stateSize()).toEqual({ count: 3, sum: 0 });
  });

  it('an aborted commit seeks back to the last committed offset, and the re-read batch commits', async () => {
    const { manager, cluster, seeks, task } = setup();
    await assigned(manager, ALL);
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
    seeks.length = 0;

    cluster.script({ fail: 'aborted' });
    const failed = batchOf('clicks', 0, records(7, 'a', 'c', 'd'), cluster.events);
    await manager.handleBatch(failed.payload);

    expect(seeks, 'back to the last committed offset').toEqual([['clicks', 0, 7]]);
    expect(failed.resolved, 'nothing resolved').toEqual([]);
    expect(
      cluster.transactions.map((t) => t.result),
      'the later chunk was not tried',
    ).toEqual(['committed', 'aborted']);
    expect(task('app-count-0').failures).toBe(1);
    expect(task('app-count-0').lifecycle.state).toBe('running');
    expect(manager.stateSize()).toEqual({ count: 2, sum: 0 });

    const again = batchOf('clicks', 0, records(7, 'a', 'c', 'd'), cluster.events);
    await manager.handleBatch(again.payload);
    expect(again.resolved).toEqual(['8', '9']);
    expect(task('app-count-0').failures).toBe(0);
    expect(cluster.producersOf('app-count-0'), 'a new producer after the failure').toHaveLength(2);
    expect(manager.stateSize()).toEqual({ count: 4, sum: 0 });
  });

  it('a commit whose outcome is unknown but settled as committed resolves its offsets like a commit', async () => {
    const { manager, cluster, seeks, task } = setup();
    await assigned(manager, ALL);
    seeks.length = 0;
    cluster.script({ fail: 'unknown', committed: 'chunk-end' });

    const batch = batchOf('clicks', 0, records(5, 'a', 'b', 'c'), cluster.events);
    await manager.handleBatch(batch.payload);

    expect(batch.resolved).toEqual(['6', '7']);
    expect(seeks, 'no seek back').toEqual([]);
    expect(task('app-count-0').parts[0]!.nextOffset).toBe(8);
    expect(manager.stateSize()).toEqual({ count: 3, sum: 0 });
    expect(cluster.transactions.map((t) => [t.producer, t.result])).toEqual([
      [cluster.producers.indexOf(cluster.producersOf('app-count-0')[0]!), 'unknown'],
      [cluster.producers.indexOf(cluster.producersOf('app-count-0')[1]!), 'committed'],
    ]);
  });

  it('a fenced commit makes the next batch rebuild the task, which runs again with a fresh producer', async () => {
    const { manager, cluster, seeks, task, clock } = setup();
    await assigned(manager, ALL);
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
    const count0 = task('app-count-0');
    seeks.length = 0;

    cluster.script({ fail: 'fenced' });
    const fenced = batchOf('clicks', 0, records(7, 'a', 'c'), cluster.events);
    await manager.handleBatch(fenced.payload);

    expect(count0.lifecycle.needsRebuild).toBe(true);
    expect(count0.fencedAtMs).toBe(clock.now);
    expect(manager.isReady(), 'a task to rebuild is not ready').toBe(false);
    expect(fenced.resolved).toEqual([]);
    expect(seeks).toEqual([['clicks', 0, 7]]);
    const [first] = cluster.producersOf('app-count-0');

    const rebuilding = batchOf('clicks', 0, records(7, 'a', 'c'), cluster.events);
    await manager.handleBatch(rebuilding.payload);

    expect(count0.lifecycle.state).toBe('running');
    expect(count0.restored).toBe(true);
    expect(manager.isReady()).toBe(true);
    expect(rebuilding.resolved, 'the rebuild processes nothing').toEqual([]);
    expect(seeks.at(-1), 'seeked to the committed offset').toEqual(['clicks', 0, 7]);
    const producers = cluster.producersOf('app-count-0');
    expect(first!.closed, 'the fenced producer is closed').toBe(true);
    expect(
      producers.filter((p) => !p.closed),
      'one fresh producer',
    ).toHaveLength(1);
    expect(producers.at(-1)!.broken).toBe(false);
    expect(count0.parts[0]!.stateSize, 'restored from its (empty) changelog').toBe(0);

    const after = batchOf('clicks', 0, records(7, 'a', 'c'), cluster.events);
    await manager.handleBatch(after.payload);
    expect(after.resolved).toEqual(['8']);
    expect(cluster.transactions.at(-1)!.producer).toBe(cluster.producers.indexOf(producers.at(-1)!));
    expect(cluster.committedOffset('clicks', 0)).toBe(9);
  });

  it('a fenced task is not taken back before the fence backoff', async () => {
    const { manager, cluster, task, clock } = setup({ fencedBackoffMs: 60_000 });
    await assigned(manager, ALL);
    cluster.script({ fail: 'fenced' });
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events).payload);
    const count0 = task('app-count-0');
    expect(count0.lifecycle.needsRebuild).toBe(true);

    clock.now += 1_000;
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events).payload);
    expect(count0.lifecycle.needsRebuild, 'still waiting for the rebalance').toBe(true);
    expect(cluster.producersOf('app-count-0')).toHaveLength(1);

    clock.now += 60_000;
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events).payload);
    expect(count0.lifecycle.state).toBe('running');
    expect(cluster.producersOf('app-count-0')).toHaveLength(2);
  });

  it('a new assignment without a partition closes its task and clears its lag; the others keep their state', async () => {
    const { manager, cluster, metrics, task } = setup();
    await assigned(manager, ALL);
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
    await manager.handleBatch(batchOf('clicks', 1, records(2, 'c'), cluster.events).payload);
    await manager.handleBatch(batchOf('views', 0, records(0, 'v'), cluster.events).payload);
    expect(manager.stateSize()).toEqual({ count: 3, sum: 1 });
    const gone = task('app-count-1');
    const goneProducers = cluster.producersOf('app-count-1');

    manager.onAssignment({ clicks: [0], views: [0] });
    expect(manager.isReady(), 'every task waits for its preparation again').toBe(false);
    await waitFor(() => manager.isReady(), 'the new assignment to be ready');

    expect(gone.lifecycle.state).toBe('closed');
    expect(
      goneProducers.every((p) => p.closed),
      'its producer closed',
    ).toBe(true);
    expect(metrics.lags.at(-1)).toEqual({ topic: 'clicks', partition: 1, lag: null });
    expect(task('app-count-0').lifecycle.state).toBe('running');
    expect(task('app-sum-0').lifecycle.state).toBe('running');
    expect(manager.stateSize(), 'kept: same committed offset and changelog end').toEqual({
      count: 2,
      sum: 1,
    });
    expect(metrics.restores, 'nothing restored for the kept tasks').toHaveLength(1);

    const more = batchOf('clicks', 0, records(7, 'a'), cluster.events);
    await manager.handleBatch(more.payload);
    expect(more.resolved).toEqual(['7']);
    expect(cluster.transactions.at(-1)!.topicMessages[0]!.messages).toEqual([{ key: 'a', value: '2' }]);
  });

  it('an assignment that arrives while the previous one is still closing a task that left is prepared', async () => {
    const { manager, cluster, metrics, task } = setup();
    await assigned(manager, ALL);
    let release!: () => void;
    cluster.closeGate = new Promise<void>((resolve) => (release = resolve));
    manager.onAssignment({ clicks: [0], views: [0] });
    // clicks/1 left: its task is closed, its producer still disconnecting.
    await waitFor(() => task('app-count-1').lifecycle.state === 'closed', 'the task that left to be closing');

    let thrown: unknown;
    try {
      manager.onAssignment({ clicks: [0], views: [0] }); // a second rebalance, soon after the first
    } catch (error) {
      thrown = error;
    } finally {
      release();
      cluster.closeGate = null;
    }

    expect(thrown, 'an assignment event never throws').toBeUndefined();
    await waitFor(() => manager.isReady(), 'the newest assignment to be ready');
    expect(
      [task('app-count-0'), task('app-count-1'), task('app-sum-0')].map((t) => t.lifecycle.state),
    ).toEqual(['running', 'closed', 'running']);
    expect(metrics.lags.filter((l) => l.lag === null)).toEqual([
      { topic: 'clicks', partition: 1, lag: null },
    ]);
  });

  it('state this build cannot read stops the process (onFatal), resolving nothing', async () => {
    const { manager, cluster, fatal } = setup();
    await assigned(manager, ALL);
    const batch = batchOf('clicks', 0, [record(5, 'a'), record(6, 'b', CORRUPT)], cluster.events);
    await manager.handleBatch(batch.payload);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(LiftstreamError);
    expect((fatal[0] as LiftstreamError).code).toBe('STATE_CORRUPT');
    expect(batch.resolved).toEqual([]);
    expect(cluster.transactions).toHaveLength(0);
  });

  it('close closes every task and its producer', async () => {
    const { manager, cluster, tasks } = setup();
    await assigned(manager, ALL);
    await manager.close();
    expect(tasks.map((t) => t.lifecycle.state)).toEqual(['closed', 'closed', 'closed']);
    expect(cluster.producers.every((p) => p.closed)).toBe(true);
    expect(manager.stateSize()).toEqual({ count: 0, sum: 0 });
  });
});

/**
 * The same two counters, co-partitioned: clicks and views with 2 partitions each, a task per
 * partition owning both (`app-task-<p>`). Changelogs retain nothing, as in setup().
 */
function setupPerPartition(options: { commitIntervalMs?: number; maxRecordsPerTransaction?: number } = {}) {
  const cluster = new FakeCluster('app')
    .topic('clicks', [
      { low: 0, high: 100 },
      { low: 2, high: 100 },
    ])
    .topic('views', [
      { low: 0, high: 100 },
      { low: 0, high: 100 },
    ])
    .topic(
      'count-changelog',
      [
        { low: 7, high: 7 },
        { low: 0, high: 0 },
      ],
      { retainsNothing: true },
    )
    .topic(
      'sum-changelog',
      [
        { low: 0, high: 0 },
        { low: 3, high: 3 },
      ],
      { retainsNothing: true },
    )
    .topic('click-totals', [{ low: 0, high: 0 }])
    .topic('view-totals', [{ low: 0, high: 0 }]);
  // clicks/0 committed at 5, views/1 at 9; clicks/1 and views/0 read from their log start.
  cluster.commitOffset('clicks', 0, 5);
  cluster.commitOffset('views', 1, 9);
  const fake = fakeContext(cluster);
  const topology: Topology = {
    subTopologies: [
      subTopology(
        counterTopology({
          name: 'count',
          source: 'clicks',
          changelog: 'count-changelog',
          sink: 'click-totals',
        }),
      ),
      subTopology(
        counterTopology({ name: 'sum', source: 'views', changelog: 'sum-changelog', sink: 'view-totals' }),
      ),
    ],
    tasks: { kind: 'per-partition', partitions: 2 },
  };
  const seeks: [string, number, number][] = [];
  const fatal: unknown[] = [];
  const manager = new TaskManager({
    ctx: fake.ctx,
    topology,
    seek: (topic, partition, offset) => seeks.push([topic, partition, offset]),
    maxRecordsPerTransaction: options.maxRecordsPerTransaction ?? 2,
    // By default every chunk commits (the open transaction across chunks has tests of its own).
    commitIntervalMs: options.commitIntervalMs ?? 0,
    commitMinSpacingMs: 0,
    restoreTimeoutMs: 1_000,
    fencedBackoffMs: 0,
    onFatal: (error) => fatal.push(error),
  });
  managers.push(manager);
  const tasks = recordTasks(manager);
  const task = (id: string): StreamTask => {
    const found = tasks.filter((t) => t.transactionalId === id);
    expect(found, `one task ${id}`).toHaveLength(1);
    return found[0]!;
  };
  /** [nextOffset, changelogEnd, stateSize] of each part of `id`. */
  const positions = (id: string) =>
    task(id).parts.map((p) => [p.name, p.nextOffset, p.changelogEnd, p.stateSize]);
  return { manager, cluster, tasks, task, positions, seeks, fatal, ...fake };
}

const BOTH = { clicks: [0, 1], views: [0, 1] };

describe('TaskManager with a task per partition (co-partitioned sub-topologies)', () => {
  it('makes one task per partition owning both sources, fencing the legacy ids, seeking both sources', async () => {
    const { manager, cluster, tasks, positions, seeks } = setupPerPartition();

    await assigned(manager, BOTH);

    expect(tasks.map((t) => [t.transactionalId, t.parts.map((p) => p.source), t.lifecycle.state])).toEqual([
      ['app-task-0', ['clicks', 'views'], 'running'],
      ['app-task-1', ['clicks', 'views'], 'running'],
    ]);
    expect(seeks.sort(), 'every source partition seeked to its committed offset').toEqual([
      ['clicks', 0, 5],
      ['clicks', 1, 2],
      ['views', 0, 0],
      ['views', 1, 9],
    ]);
    expect(positions('app-task-0')).toEqual([
      ['count', 5, 7, 0],
      ['sum', 0, 0, 0],
    ]);
    expect(positions('app-task-1')).toEqual([
      ['count', 2, 0, 0],
      ['sum', 9, 3, 0],
    ]);
    for (const p of [0, 1]) {
      expect(
        cluster.producers
          .filter((x) => x.transactionalId.endsWith(`-${p}`))
          .map((x) => [x.transactionalId, x.closed]),
        `task ${p}: its parts' own ids fenced (and closed) before its own`,
      ).toEqual([
        [`app-count-${p}`, true],
        [`app-sum-${p}`, true],
        [`app-task-${p}`, false],
      ]);
    }

    // Batches of both sources of one task go to that task, each committing its own offset.
    const clicks = batchOf('clicks', 1, records(2, 'a', 'b', 'c'), cluster.events);
    const views = batchOf('views', 1, records(9, 'v'), cluster.events);
    await Promise.all([manager.handleBatch(clicks.payload), manager.handleBatch(views.payload)]);
    expect([clicks.resolved, views.resolved]).toEqual([['3', '4'], ['9']]);
    expect(
      cluster.transactions.map((t) => [t.transactionalId, t.offsets[0]!.topic, t.offsets[0]!.offset]).sort(),
    ).toEqual([
      ['app-task-1', 'clicks', 4],
      ['app-task-1', 'clicks', 5],
      ['app-task-1', 'views', 10],
    ]);
    expect(positions('app-task-1').map(([name, next]) => [name, next])).toEqual([
      ['count', 5],
      ['sum', 10],
    ]);
    expect(manager.stateSize()).toEqual({ count: 3, sum: 1 });
  });

  it('an assignment that gives some sources of a partition but not all stops the process, naming the partitions', async () => {
    const { manager, cluster, tasks, fatal } = setupPerPartition();

    manager.onAssignment({ clicks: [0, 1], views: [0] });
    await sleep(20);

    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(Error);
    expect((fatal[0] as Error).message).toMatch(/partitions 1\b/);
    expect((fatal[0] as Error).message).toContain('co-partitioned');
    expect(tasks, 'no task made').toEqual([]);
    expect(cluster.producers, 'no id fenced').toEqual([]);

    manager.onAssignment({ clicks: [0], views: [1] });
    expect((fatal[1] as Error).message).toMatch(/partitions 0, 1\b/);
  });

  it('a reassignment keeps or restores the parts of a task together; a fenced task is rebuilt whole', async () => {
    const { manager, cluster, positions, task, seeks, metrics } = setupPerPartition();
    await assigned(manager, BOTH);
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
    await manager.handleBatch(batchOf('views', 0, records(0, 'v'), cluster.events).payload);
    await manager.handleBatch(batchOf('views', 1, records(9, 'w'), cluster.events).payload);
    expect(manager.stateSize()).toEqual({ count: 2, sum: 2 });
    const restores = metrics.restores.length;

    // Same assignment, nothing moved: both tasks kept whole.
    await assigned(manager, BOTH);
    expect(metrics.restores, 'nothing restored').toHaveLength(restores);
    expect(positions('app-task-0').map(([name, , , size]) => [name, size])).toEqual([
      ['count', 2],
      ['sum', 1],
    ]);

    // Someone else wrote sum's changelog of partition 0: task 0 restores both its parts, task 1 is kept.
    cluster.append([{ topic: 'sum-changelog', messages: [{ key: 'x', value: null, partition: 0 }] }]);
    await assigned(manager, BOTH);
    expect(metrics.restores).toHaveLength(restores + 1);
    expect(positions('app-task-0')).toEqual([
      ['count', 7, cluster.boundsOf('count-changelog', 0).high, 0],
      ['sum', 1, cluster.boundsOf('sum-changelog', 0).high, 0],
    ]);
    expect(positions('app-task-1').map(([name, , , size]) => [name, size])).toEqual([
      ['count', 0],
      ['sum', 1],
    ]);

    // Fenced on one source: a batch of the other source rebuilds the task, both parts.
    await manager.handleBatch(batchOf('clicks', 0, records(7, 'a'), cluster.events).payload);
    expect(task('app-task-0').parts[0]!.stateSize).toBe(1);
    cluster.script({ fail: 'fenced' });
    await manager.handleBatch(batchOf('views', 0, records(1, 'v'), cluster.events).payload);
    const task0 = task('app-task-0');
    expect(task0.lifecycle.needsRebuild).toBe(true);
    expect(task0.restored).toBe(false);
    seeks.length = 0;

    const rebuilding = batchOf('clicks', 0, records(8, 'a'), cluster.events);
    await manager.handleBatch(rebuilding.payload);

    expect(task0.lifecycle.state).toBe('running');
    expect(task0.restored).toBe(true);
    expect(rebuilding.resolved, 'the rebuild processes nothing').toEqual([]);
    expect(seeks.sort(), 'both sources seeked to their committed offsets').toEqual([
      ['clicks', 0, 8],
      ['views', 0, 1],
    ]);
    expect(positions('app-task-0')).toEqual([
      ['count', 8, cluster.boundsOf('count-changelog', 0).high, 0],
      ['sum', 1, cluster.boundsOf('sum-changelog', 0).high, 0],
    ]);
    expect(task('app-task-1').lifecycle.state).toBe('running');
    expect(manager.isReady()).toBe(true);
  });

  describe('batches of both sources of one task run concurrently (kafkajs partitionsConsumedConcurrently)', () => {
    /**
     * A batch of clicks/0 whose commit waits while `meanwhile` runs, and a batch of views/0 handled
     * at the same time: its chunk queues behind the first one's.
     */
    async function concurrentBatches(meanwhile: (s: ReturnType<typeof setupPerPartition>) => void) {
      const setup = setupPerPartition();
      const { manager, cluster } = setup;
      await assigned(manager, BOTH);
      let release!: () => void;
      cluster.commitGate = new Promise<void>((resolve) => (release = resolve));
      cluster.duringCommit = () => cluster.events.push('in flight');
      const clicks = batchOf('clicks', 0, records(5, 'a'), cluster.events);
      const views = batchOf('views', 0, records(0, 'v'), cluster.events);
      const handled = Promise.all([manager.handleBatch(clicks.payload), manager.handleBatch(views.payload)]);
      await waitFor(() => cluster.events.includes('in flight'), 'the clicks commit to be in flight');
      meanwhile(setup);
      cluster.commitGate = null;
      release();
      await handled;
      return { ...setup, clicks, views };
    }

    it('a reassignment meanwhile: the queued chunk does not run, and nothing is fatal', async () => {
      const { manager, cluster, fatal, views, task } = await concurrentBatches(({ manager: m }) =>
        m.onAssignment(BOTH),
      );

      expect(fatal, 'a rebalance is no reason to stop the process').toEqual([]);
      // The chunk in flight goes on (the preparation's fence settles it); the queued one never starts.
      expect(cluster.transactions.map((t) => t.offsets[0]!.topic)).toEqual(['clicks']);
      expect(views.resolved).toEqual([]);
      await waitFor(() => manager.isReady(), 'the new assignment to be ready');
      expect(task('app-task-0').lifecycle.state).toBe('running');
    });

    it('a fenced commit: the queued chunk does not run, and nothing is fatal', async () => {
      const { fatal, clicks, views, task, cluster } = await concurrentBatches(({ cluster: c }) =>
        c.script({ fail: 'fenced' }),
      );

      expect(fatal, 'a fenced task is rebuilt, not a reason to stop the process').toEqual([]);
      expect([clicks.resolved, views.resolved]).toEqual([[], []]);
      expect(cluster.transactions.map((t) => t.result)).toEqual(['fenced']);
      expect(task('app-task-0').lifecycle.needsRebuild).toBe(true);
    });
  });

  it('a task to rebuild that gets batches of both its sources at once is rebuilt once, and both batches end', async () => {
    const { manager, cluster, fatal, task, metrics } = setupPerPartition();
    await assigned(manager, BOTH);
    cluster.script({ fail: 'fenced' });
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events).payload);
    const task0 = task('app-task-0');
    expect(task0.lifecycle.needsRebuild).toBe(true);
    const restores = metrics.restores.length;

    const clicks = batchOf('clicks', 0, records(5, 'a'), cluster.events);
    const views = batchOf('views', 0, records(0, 'v'), cluster.events);
    const handled = Promise.all([manager.handleBatch(clicks.payload), manager.handleBatch(views.payload)]);
    const ended = await Promise.race([handled.then(() => true), sleep(300).then(() => false)]);

    expect(ended, 'both batches end (neither waits for a preparation that cannot succeed)').toBe(true);
    expect(task0.lifecycle.state).toBe('running');
    expect(manager.isReady()).toBe(true);
    expect(fatal).toEqual([]);
    expect(metrics.restores.length - restores, 'one rebuild').toBe(1);
  });

  it('a task that leaves is closed with both its parts, and the lag of both its sources is cleared', async () => {
    const { manager, cluster, metrics, task } = setupPerPartition();
    await assigned(manager, BOTH);
    await manager.handleBatch(batchOf('clicks', 1, records(2, 'a'), cluster.events).payload);
    await manager.handleBatch(batchOf('views', 1, records(9, 'v'), cluster.events).payload);
    const gone = task('app-task-1');

    await assigned(manager, { clicks: [0], views: [0] });

    expect(gone.lifecycle.state).toBe('closed');
    expect(cluster.producersOf('app-task-1').every((p) => p.closed)).toBe(true);
    expect(
      gone.parts.map((p) => p.stateSize),
      'both stores dropped',
    ).toEqual([0, 0]);
    expect(metrics.lags.filter((l) => l.lag === null)).toEqual([
      { topic: 'clicks', partition: 1, lag: null },
      { topic: 'views', partition: 1, lag: null },
    ]);
    expect(task('app-task-0').lifecycle.state).toBe('running');
    expect(manager.stateSize()).toEqual({ count: 0, sum: 0 });
  });
});

describe('TaskManager with a commit interval', () => {
  /**
   * Real ms: the flush timer is a real timer. Its deadline is also checked on ctx.now() (the test's
   * clock), which a test moves past the interval when it wants the timer to commit.
   */
  const INTERVAL = 50;
  /** Transactions stay open up to INTERVAL, or up to 10 input records. */
  const OPTIONS = { commitIntervalMs: INTERVAL, maxRecordsPerTransaction: 10 };

  /** Each transaction's result and the [topic, partition, offset] it committed for the group. */
  const committedOf = (cluster: FakeCluster) =>
    cluster.transactions.map((t) => [t.result, t.offsets.map((o) => [o.topic, o.partition, o.offset])]);
  /** Keys of the records each transaction sent to `topic`. */
  const keysSentTo = (cluster: FakeCluster, topic: string) =>
    cluster.transactions.map((t) =>
      (t.topicMessages.find((m) => m.topic === topic)?.messages ?? []).map((m) => m.key),
    );

  it('a batch with more to read leaves its transaction open and resolves its offsets; a timer commits it when the interval ends', async () => {
    const { manager, cluster, task, clock, storages } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    const started = Date.now();
    const batch = batchOf('clicks', 0, records(5, 'a', 'b', 'a'), cluster.events, 100);

    await manager.handleBatch(batch.payload);

    expect(batch.resolved, "the consumer's position moves on").toEqual(['7']);
    expect(cluster.transactions).toEqual([]);
    expect(count0.hasOpenTransaction).toBe(true);
    expect(count0.parts[0]!.nextOffset).toBe(5);
    expect(cluster.committedOffset('clicks', 0), "the group's offset waits for the commit").toBe(5);
    expect(committedCounts(storages, 'count-0', 'a', 'b')).toEqual({ a: undefined, b: undefined });

    await sleep(INTERVAL / 2);
    expect(cluster.transactions, 'not before the interval ends').toEqual([]);
    clock.now += INTERVAL;
    await waitFor(() => count0.parts[0]!.nextOffset === 8, 'the timer to commit');

    expect(Date.now() - started, 'committed by the timer, once the interval ended').toBeGreaterThanOrEqual(
      INTERVAL - 2,
    );
    expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 8]]]]);
    expect(cluster.transactions[0]!.topicMessages).toEqual([
      {
        topic: 'click-totals',
        messages: [
          { key: 'a', value: '1' },
          { key: 'b', value: '1' },
          { key: 'a', value: '2' },
        ],
      },
      {
        topic: 'count-changelog',
        messages: [
          { key: 'a', value: '{"n":2}', partition: 0 },
          { key: 'b', value: '{"n":1}', partition: 0 },
        ],
      },
    ]);
    expect(committedCounts(storages, 'count-0', 'a', 'b')).toEqual({ a: 2, b: 1 });
    expect(count0.hasOpenTransaction).toBe(false);
    expect(count0.failures).toBe(0);
    expect(cluster.committedOffset('clicks', 0)).toBe(8);

    clock.now += INTERVAL;
    await sleep(INTERVAL * 2);
    expect(cluster.transactions, 'committed once').toHaveLength(1);
  });

  it("a timer set for an earlier transaction does not commit a newer one before the newer one's interval ends", async () => {
    const { manager, cluster, task, clock } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 100).payload);
    // Caught up: commits what was open, before its timer.
    await manager.handleBatch(batchOf('clicks', 0, records(6, 'b'), cluster.events, 8).payload);
    expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 7]]]]);
    clock.now += INTERVAL - 10;
    await manager.handleBatch(batchOf('clicks', 0, records(7, 'c'), cluster.events, 100).payload);
    expect(count0.openSinceMs).toBe(clock.now);

    await sleep(INTERVAL * 1.5);
    expect(cluster.transactions, 'the first timer found the newer transaction young: it waits').toHaveLength(
      1,
    );
    expect(count0.hasOpenTransaction).toBe(true);

    clock.now += INTERVAL;
    await waitFor(() => cluster.transactions.length === 2, 'the newer transaction to be committed');
    expect(committedOf(cluster)[1]).toEqual(['committed', [['clicks', 0, 8]]]);
  });

  it('with commit spacing, a caught-up batch soon after a commit stays open and a timer commits it when the spacing ends', async () => {
    const SPACING = 40;
    const { manager, cluster, task, clock } = setup({
      ...OPTIONS,
      commitIntervalMs: 10_000,
      commitMinSpacingMs: SPACING,
    });
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    const firstCommitAt = clock.now;
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 7).payload);
    expect(committedOf(cluster), 'quiet: at once').toEqual([['committed', [['clicks', 0, 6]]]]);

    clock.now += 10;
    const second = batchOf('clicks', 0, records(6, 'b'), cluster.events, 8);
    await manager.handleBatch(second.payload);
    expect(second.resolved, "caught up but within the spacing: the consumer's position moves on").toEqual([
      '6',
    ]);
    expect(count0.commitDueAtMs).toBe(firstCommitAt + SPACING);
    await sleep(SPACING);
    expect(cluster.transactions, 'not before the spacing ends on the task clock').toHaveLength(1);

    clock.now = firstCommitAt + SPACING;
    await waitFor(() => cluster.transactions.length === 2, 'the timer to commit the spaced transaction');
    expect(committedOf(cluster)[1]).toEqual(['committed', [['clicks', 0, 7]]]);
    expect(count0.hasOpenTransaction).toBe(false);
  });

  it('a batch that ends at the high watermark (one offset of slack for the commit marker) commits at once, with what was left open', async () => {
    const { manager, cluster } = setup(OPTIONS);
    await assigned(manager, ALL);

    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 100).payload);
    await manager.handleBatch(batchOf('clicks', 0, records(6, 'b'), cluster.events, 9).payload);
    expect(cluster.transactions, 'two offsets short of the high watermark: not caught up').toEqual([]);
    await manager.handleBatch(batchOf('clicks', 0, records(7, 'c'), cluster.events, 9).payload);

    expect(cluster.events).toEqual(['resolve 5', 'resolve 6', 'commit 8', 'resolve 7']);
    expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 8]]]]);
    expect(keysSentTo(cluster, 'click-totals')).toEqual([['a', 'b', 'c']]);
  });

  it('a batch larger than maxRecordsPerTransaction commits each full chunk; the rest stays open', async () => {
    const { manager, cluster, task } = setup(OPTIONS);
    await assigned(manager, ALL);
    const keys = Array.from({ length: 13 }, (_, i) => `k${i}`);
    const batch = batchOf('clicks', 0, records(5, ...keys), cluster.events, 100);

    await manager.handleBatch(batch.payload);

    expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 15]]]]);
    expect(batch.resolved).toEqual(['14', '17']);
    expect(task('app-count-0').hasOpenTransaction, 'the last 3 records').toBe(true);
  });

  it('an aborted commit of an open transaction seeks back to the committed offset; the re-read commits once', async () => {
    const { manager, cluster, seeks, task, storages } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    const first = batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events, 100);
    await manager.handleBatch(first.payload);
    expect(first.resolved).toEqual(['6']);
    seeks.length = 0;

    cluster.script({ fail: 'aborted' });
    const second = batchOf('clicks', 0, records(7, 'c'), cluster.events, 9);
    await manager.handleBatch(second.payload);

    expect(committedOf(cluster), 'both batches in the aborted transaction').toEqual([
      ['aborted', [['clicks', 0, 8]]],
    ]);
    expect(seeks, "back to the last committed offset: the first batch's records too").toEqual([
      ['clicks', 0, 5],
    ]);
    expect(second.resolved).toEqual([]);
    expect(count0.hasOpenTransaction).toBe(false);
    expect(count0.parts[0]!.changes()).toEqual([]);
    expect(count0.failures).toBe(1);
    expect(manager.stateSize()).toEqual({ count: 0, sum: 0 });

    const again = batchOf('clicks', 0, records(5, 'a', 'b', 'c'), cluster.events, 9);
    await manager.handleBatch(again.payload);
    expect(committedOf(cluster)[1]).toEqual(['committed', [['clicks', 0, 8]]]);
    expect(committedCounts(storages, 'count-0', 'a', 'b', 'c'), 'counted once').toEqual({ a: 1, b: 1, c: 1 });
    expect(count0.failures).toBe(0);
  });

  it('a stage that throws in a later batch drops the earlier batch as well and seeks back to the committed offset', async () => {
    const { manager, cluster, seeks, task, clock } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 100).payload);
    seeks.length = 0;

    const failing = batchOf('clicks', 0, [record(6, 'b'), record(7, 'c', THROW)], cluster.events, 100);
    await manager.handleBatch(failing.payload);

    expect(seeks).toEqual([['clicks', 0, 5]]);
    expect(failing.resolved).toEqual([]);
    expect(count0.hasOpenTransaction).toBe(false);
    expect(count0.parts[0]!.changes(), "nothing of the first batch's chunk is left").toEqual([]);
    expect(count0.failures).toBe(1);

    clock.now += INTERVAL;
    await sleep(INTERVAL * 1.5);
    expect(cluster.transactions, 'the timer finds nothing to commit').toEqual([]);
  });

  it('a timer commit that aborts seeks back to the committed offset', async () => {
    const { manager, cluster, seeks, task, clock } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events, 100).payload);
    seeks.length = 0;
    cluster.script({ fail: 'aborted' });

    clock.now += INTERVAL;
    await waitFor(() => seeks.length > 0, 'the failed timer commit to seek back');

    expect(committedOf(cluster)).toEqual([['aborted', [['clicks', 0, 7]]]]);
    expect(seeks).toEqual([['clicks', 0, 5]]);
    expect(count0.failures).toBe(1);
    expect(count0.hasOpenTransaction).toBe(false);
    expect(manager.stateSize()).toEqual({ count: 0, sum: 0 });
  });

  it('a new assignment drops the open transaction: the kept task holds the committed state, and nothing of the dropped batch is ever sent', async () => {
    const { manager, cluster, task, seeks, clock, storages, metrics } = setup(OPTIONS);
    await assigned(manager, ALL);
    const count0 = task('app-count-0');
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 7).payload);
    expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 6]]]]);
    const dropped = batchOf('clicks', 0, records(6, 'a', 'b'), cluster.events, 100);
    await manager.handleBatch(dropped.payload);
    expect([dropped.resolved, count0.hasOpenTransaction]).toEqual([['7'], true]);
    seeks.length = 0;
    const restores = metrics.restores.length;

    await assigned(manager, ALL);

    expect(count0.lifecycle.state).toBe('running');
    expect(count0.hasOpenTransaction).toBe(false);
    expect(count0.parts[0]!.changes()).toEqual([]);
    expect(metrics.restores, 'kept, not restored: its state is the committed one').toHaveLength(restores);
    expect(committedCounts(storages, 'count-0', 'a', 'b')).toEqual({ a: 1, b: undefined });
    expect(seeks, 'the consumer reads the dropped records again').toContainEqual(['clicks', 0, 6]);

    clock.now += INTERVAL * 10;
    await sleep(INTERVAL * 2);
    expect(committedOf(cluster), 'no timer commits the dropped batch').toEqual([
      ['committed', [['clicks', 0, 6]]],
    ]);

    const again = batchOf('clicks', 0, records(6, 'a', 'b'), cluster.events, 8);
    await manager.handleBatch(again.payload);
    expect(committedOf(cluster)[1]).toEqual(['committed', [['clicks', 0, 8]]]);
    expect(committedCounts(storages, 'count-0', 'a', 'b'), 'counted once').toEqual({ a: 2, b: 1 });
    expect(keysSentTo(cluster, 'click-totals')).toEqual([['a'], ['a', 'b']]);
  });

  it('close with an open transaction sends nothing', async () => {
    const { manager, cluster, tasks, clock } = setup(OPTIONS);
    await assigned(manager, ALL);
    await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 100).payload);
    await manager.handleBatch(batchOf('views', 0, records(0, 'v'), cluster.events, 100).payload);
    expect(tasks.filter((t) => t.hasOpenTransaction)).toHaveLength(2);

    await manager.close();

    expect(cluster.transactions).toEqual([]);
    expect(tasks.map((t) => t.lifecycle.state)).toEqual(['closed', 'closed', 'closed']);
    expect(cluster.producers.every((p) => p.closed)).toBe(true);
    clock.now += INTERVAL * 10;
    await sleep(INTERVAL * 2);
    expect(cluster.transactions, 'nor later').toEqual([]);
  });

  describe('with a task per partition', () => {
    it('batches of both sources share the open transaction; a commit that aborts seeks both sources back', async () => {
      const { manager, cluster, seeks, positions, task } = setupPerPartition(OPTIONS);
      await assigned(manager, BOTH);
      // views/0 commits once first, so each source has its own offset to go back to.
      await manager.handleBatch(batchOf('views', 0, records(0, 'v'), cluster.events, 1).payload);
      expect(committedOf(cluster)).toEqual([['committed', [['views', 0, 1]]]]);
      const clicks = batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events, 100);
      const views = batchOf('views', 0, records(1, 'w'), cluster.events, 100);
      await manager.handleBatch(clicks.payload);
      await manager.handleBatch(views.payload);
      expect([clicks.resolved, views.resolved]).toEqual([['6'], ['1']]);
      expect(cluster.transactions).toHaveLength(1);
      seeks.length = 0;

      cluster.script({ fail: 'aborted' });
      const last = batchOf('clicks', 0, records(7, 'c'), cluster.events, 9);
      await manager.handleBatch(last.payload);

      expect(committedOf(cluster)[1]).toEqual([
        'aborted',
        [
          ['clicks', 0, 8],
          ['views', 0, 2],
        ],
      ]);
      expect(seeks.sort(), 'every source of the task, to its committed offset').toEqual([
        ['clicks', 0, 5],
        ['views', 0, 1],
      ]);
      expect(last.resolved).toEqual([]);
      expect(positions('app-task-0').map(([name, next, , size]) => [name, next, size])).toEqual([
        ['count', 5, 0],
        ['sum', 1, 1],
      ]);
      expect(task('app-task-0').parts.map((p) => p.changes())).toEqual([[], []]);
      expect(task('app-task-0').failures).toBe(1);
    });

    it('a caught-up batch of one source commits what the other left open, with both offsets', async () => {
      const { manager, cluster, positions } = setupPerPartition(OPTIONS);
      await assigned(manager, BOTH);
      await manager.handleBatch(batchOf('clicks', 0, records(5, 'a'), cluster.events, 100).payload);

      await manager.handleBatch(batchOf('views', 0, records(0, 'v'), cluster.events, 1).payload);

      expect(committedOf(cluster)).toEqual([
        [
          'committed',
          [
            ['clicks', 0, 6],
            ['views', 0, 1],
          ],
        ],
      ]);
      expect(positions('app-task-0').map(([name, next, , size]) => [name, next, size])).toEqual([
        ['count', 6, 1],
        ['sum', 1, 1],
      ]);
    });

    it('a chunk queued behind another, whose consumer was seeked meanwhile, is stale: nothing processed, resolved or seeked', async () => {
      const { manager, cluster, seeks, task } = setupPerPartition(OPTIONS);
      await assigned(manager, BOTH);
      let release!: () => void;
      cluster.commitGate = new Promise<void>((resolve) => (release = resolve));
      cluster.duringCommit = () => cluster.events.push('in flight');
      const clicks = batchOf('clicks', 0, records(5, 'a'), cluster.events, 7);
      const views = batchOf('views', 0, records(0, 'v'), cluster.events, 100);
      let seeked = false;
      views.payload.isStale = () => seeked;
      const handled = Promise.all([manager.handleBatch(clicks.payload), manager.handleBatch(views.payload)]);
      await waitFor(() => cluster.events.includes('in flight'), 'the clicks commit to be in flight');
      seeked = true;
      seeks.length = 0;
      cluster.commitGate = null;
      release();
      await handled;

      expect(clicks.resolved).toEqual(['5']);
      expect(views.resolved).toEqual([]);
      expect(seeks, 'kafkajs reads from the offset it was seeked to').toEqual([]);
      const task0 = task('app-task-0');
      expect(task0.hasOpenTransaction).toBe(false);
      expect(task0.parts[1]!.changes()).toEqual([]);
      expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 6]]]]);
    });
  });

  describe('found in review', () => {
    it('a timer commit that aborts while the consumer is stopping logs its failed seek, rejecting nothing', async () => {
      const { manager, cluster, consumer, clock } = setup(OPTIONS);
      await assigned(manager, ALL);
      const rejections: unknown[] = [];
      const onRejection = (reason: unknown): void => void rejections.push(reason);
      process.on('unhandledRejection', onRejection);
      try {
        await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
        cluster.script({ fail: 'aborted' });
        // StreamProcessor.stop(): consumer.disconnect() is under way when the timer fires.
        consumer.stopped = true;
        clock.now += INTERVAL;
        await waitFor(() => cluster.transactions.length === 1, 'the timer commit');
        await sleep(20);
        expect(rejections).toEqual([]);
        expect(committedOf(cluster)).toEqual([['aborted', [['clicks', 0, 7]]]]);
      } finally {
        process.off('unhandledRejection', onRejection);
      }
    });

    it('the interval is measured on the monotonic clock: a wall clock stepped back does not hold a transaction open', async () => {
      const { manager, cluster, clock } = setup(OPTIONS);
      await assigned(manager, ALL);
      clock.monotonic = 0;
      await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b'), cluster.events).payload);
      expect(cluster.transactions).toEqual([]);
      // NTP steps the wall clock back a minute while one interval passes.
      clock.now -= 60_000;
      clock.monotonic += INTERVAL;
      await waitFor(() => cluster.transactions.length === 1, 'the timer commit');
      expect(committedOf(cluster)).toEqual([['committed', [['clicks', 0, 7]]]]);
    });

    it('a batch that entered before a rollback seeked its partition is refused, even when kafkajs no longer calls it stale', async () => {
      const { manager, cluster, clock } = setup(OPTIONS);
      await assigned(manager, ALL);
      // Records 5..7 processed into the open transaction: the position is 8.
      await manager.handleBatch(batchOf('clicks', 0, records(5, 'a', 'b', 'c'), cluster.events).payload);
      let release!: () => void;
      cluster.commitGate = new Promise<void>((resolve) => (release = resolve));
      cluster.duringCommit = () => cluster.events.push('in flight');
      cluster.script({ fail: 'aborted' });
      clock.now += INTERVAL;
      await waitFor(() => cluster.events.includes('in flight'), 'the timer commit to be in flight');
      // Fetched from position 8 before the rollback; its kafkajs seek entry was consumed by another
      // broker's fetch (a leader move), so kafkajs's isStale() says false. Caught up: it would commit.
      const late = batchOf('clicks', 0, records(8, 'd', 'e'), cluster.events, 10);
      const handled = manager.handleBatch(late.payload);
      cluster.commitGate = null;
      release();
      await handled;

      expect(late.resolved, 'nothing of the late batch processed').toEqual([]);
      expect(committedOf(cluster), 'offset 10 never committed past the dropped 5..7').toEqual([
        ['aborted', [['clicks', 0, 8]]],
      ]);
    });
  });
});
