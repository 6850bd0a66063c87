import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LiftstreamError } from '../../../shared/errors.ts';
import type { EvictFn } from '../../../shared/streams/stores/eviction-sweep.ts';
import { StreamTask, type ChunkOptions, type CommitPolicy } from '../../../shared/streams/stream-task.ts';
import type { TaskState } from '../../../shared/streams/task-lifecycle.ts';
import { subTopology, type SubTopology } from '../../../shared/streams/topology.ts';
import {
  committedCounts,
  CORRUPT,
  counterTopology,
  FakeCluster,
  fakeContext,
  FakeRouting,
  forwarderTopology,
  record,
  records,
  THROW,
  waitFor,
  type Count,
  type RecordedTransaction,
} from '../../helpers/streams/fakes.ts';

const NAMES = { name: 'count', source: 'clicks', changelog: 'count-changelog', sink: 'totals' };
const PARTITION = 1;
/** The changelog partition's end before the first chunk (earlier records, compacted or not). */
const CHANGELOG_HIGH = 40;
/** The task's committed input offset before the first chunk. */
const START = 10;

/**
 * A running task for clicks/1 over a fresh fake cluster, prepared as the task manager would leave it:
 * committed offset START (also the group's), changelog end CHANGELOG_HIGH, store current; `policy`
 * decides when its open transaction commits (default: every chunk).
 */
function runningTask(evict?: EvictFn<Count>, policy?: CommitPolicy) {
  const cluster = new FakeCluster('app')
    .topic('clicks', [
      { low: 0, high: 100 },
      { low: 0, high: 100 },
    ])
    .topic('count-changelog', [
      { low: 0, high: 0 },
      { low: 0, high: CHANGELOG_HIGH },
    ])
    .topic('totals', [{ low: 0, high: 0 }]);
  cluster.commitOffset('clicks', PARTITION, START);
  const fake = fakeContext(cluster);
  const part = subTopology(counterTopology(NAMES, evict)).createPart(PARTITION, fake.ctx);
  const task = new StreamTask([part], PARTITION, fake.ctx, null, policy);
  task.lifecycle.startRestoring();
  task.lifecycle.markRunning();
  task.restored = true;
  part.nextOffset = START;
  part.changelogEnd = CHANGELOG_HIGH;
  /** The committed values of `keys` (undefined: absent). */
  const valuesOf = (...keys: string[]) => committedCounts(fake.storages, `count-${PARTITION}`, ...keys);
  return { task, part, cluster, valuesOf, ...fake };
}

describe('StreamTask', () => {
  it('is named and keyed by its sub-topology and partition (built through subTopology())', () => {
    const { ctx, storages } = fakeContext(new FakeCluster('app'));
    const node = subTopology(counterTopology(NAMES));
    expect([node.name, node.source, node.changelog]).toEqual(['count', 'clicks', 'count-changelog']);
    const part = node.createPart(2, ctx);
    const task = new StreamTask([part], 2, ctx, null);
    expect({
      name: part.name,
      source: part.source,
      changelog: part.changelogTopic,
      store: part.storeName,
      sinks: [...part.sinkNames],
      nextOffset: part.nextOffset,
      changelogEnd: part.changelogEnd,
      stateSize: part.stateSize,
    }).toEqual({
      name: 'count',
      source: 'clicks',
      changelog: 'count-changelog',
      store: 'counts',
      sinks: [['totals', 'totals']],
      nextOffset: -1,
      changelogEnd: null,
      stateSize: 0,
    });
    expect([...storages.keys()], 'its store is named <sub-topology>-<partition>').toEqual(['count-2']);
    expect({
      partition: task.partition,
      id: task.transactionalId,
      state: task.lifecycle.state,
      restored: task.restored,
      fencedAtMs: task.fencedAtMs,
      failures: task.failures,
    }).toEqual({
      partition: 2,
      id: 'app-count-2',
      state: 'created',
      restored: false,
      fencedAtMs: null,
      failures: 0,
    });
    expect(task.parts).toEqual([part]);
    expect(task.part('clicks')).toBe(part);
    expect(task.part('views')).toBeUndefined();
  });

  it('a task needs at least one part', () => {
    const { ctx } = fakeContext(new FakeCluster('app'));
    expect(() => new StreamTask([], 0, ctx, null)).toThrow('a task needs at least one part');
  });

  it('a committed chunk keeps its values, moves the offsets and reports what it wrote', async () => {
    const { task, part, valuesOf, cluster, metrics } = runningTask();

    const outcome = await task.processChunk('clicks', records(START, 'a', 'b', 'a'));

    expect(outcome).toBe('committed');
    expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
    expect(part.stateSize).toBe(2);
    expect(part.nextOffset, 'last offset + 1').toBe(START + 3);
    expect(part.changelogEnd, 'baseOffset + changes - 1, then the commit marker').toBe(
      CHANGELOG_HIGH + 2 - 1 + 2,
    );
    expect(part.changelogEnd, 'what the broker reports').toBe(
      cluster.boundsOf('count-changelog', PARTITION).high,
    );
    expect(task.restored).toBe(true);
    expect(task.lifecycle.state).toBe('running');

    expect(
      cluster.producers.map((p) => p.transactionalId),
      'one producer, created for the first chunk',
    ).toEqual(['app-count-1']);
    expect(cluster.transactions).toEqual([
      {
        transactionalId: 'app-count-1',
        producer: 0,
        result: 'committed',
        topicMessages: [
          {
            topic: 'totals',
            messages: [
              { key: 'a', value: '1' },
              { key: 'b', value: '1' },
              { key: 'a', value: '2' },
            ],
          },
          {
            topic: 'count-changelog',
            messages: [
              { key: 'a', value: '{"n":2}', partition: PARTITION },
              { key: 'b', value: '{"n":1}', partition: PARTITION },
            ],
          },
        ],
        offsets: [{ groupId: 'app', topic: 'clicks', partition: PARTITION, offset: START + 3 }],
      },
    ]);

    expect(metrics.chunks).toEqual([
      {
        stage: 'count',
        chunk: {
          recordsIn: 3,
          recordsOut: new Map([
            ['changelog', 2],
            ['totals', 3],
          ]),
          recordsInPlace: 0,
          counters: new Map([['counted', 3]]),
          receivedAt: [],
        },
      },
    ]);
    expect(metrics.transactions.map((t) => [t.stage, t.result])).toEqual([['count', 'commit']]);
    expect(metrics.transactions[0]!.seconds).toBeGreaterThanOrEqual(0);

    // The next chunk builds on the committed values and the changelog's new end.
    expect(await task.processChunk('clicks', records(START + 3, 'a'))).toBe('committed');
    expect(valuesOf('a', 'b')).toEqual({ a: 3, b: 1 });
    expect(part.nextOffset).toBe(START + 4);
    expect(part.changelogEnd).toBe(CHANGELOG_HIGH + 3 + 1 - 1 + 2);
    expect(cluster.producers, 'the same producer').toHaveLength(1);
  });

  it('an aborted commit is a retry: the store is back at the last commit and the next chunk gets a new producer', async () => {
    const { task, part, valuesOf, cluster, metrics } = runningTask();
    expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
    const committedEnd = part.changelogEnd;
    expect(committedEnd).toBe(CHANGELOG_HIGH + 2);

    cluster.script({ fail: 'aborted' });
    const outcome = await task.processChunk('clicks', records(START + 1, 'a', 'b'));

    expect(outcome).toBe('retry');
    expect(valuesOf('a', 'b'), 'the last committed values').toEqual({ a: 1, b: undefined });
    expect(part.stateSize).toBe(1);
    expect(part.nextOffset, 'unchanged: re-read from here').toBe(START + 1);
    expect(part.changelogEnd, 'unknown after an abort').toBeNull();
    expect(task.restored, 'the store still equals the changelog').toBe(true);
    expect(task.lifecycle.state).toBe('running');
    expect(task.fencedAtMs).toBeNull();
    expect(metrics.transactions.map((t) => t.result)).toEqual(['commit', 'abort']);
    expect(metrics.chunks, 'an aborted chunk counts nothing').toHaveLength(1);
    expect(cluster.producers[0]!.broken).toBe(true);

    // The retried chunk: the broken producer is replaced (and closed) before it.
    expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'))).toBe('committed');
    expect(cluster.producers).toHaveLength(2);
    expect(cluster.producers[0]!.closed, 'the broken producer is closed').toBe(true);
    expect(cluster.producers[1]!.transactionalId, 'same transactional id').toBe('app-count-1');
    expect(cluster.transactions.at(-1)!.producer, 'committed by the new producer').toBe(1);
    expect(valuesOf('a', 'b'), 'counted once').toEqual({ a: 2, b: 1 });
    expect(part.nextOffset).toBe(START + 3);
    expect(part.changelogEnd).toBe(cluster.boundsOf('count-changelog', PARTITION).high);
    expect(metrics.chunks).toHaveLength(2);
  });

  it('a fenced commit means a rebuild: rolled back, not restored, suspended, fencing time noted', async () => {
    const { task, part, valuesOf, cluster, metrics, clock } = runningTask();
    expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
    clock.now += 5_000;
    const fencedAt = clock.now;

    cluster.script({ fail: 'fenced' });
    const outcome = await task.processChunk('clicks', records(START + 1, 'a', 'b'));

    expect(outcome).toBe('rebuild');
    expect(task.restored).toBe(false);
    expect(task.lifecycle.state).toBe('suspended');
    expect(task.lifecycle.needsRebuild).toBe(true);
    expect(task.fencedAtMs, 'from ctx.now()').toBe(fencedAt);
    expect(valuesOf('a', 'b'), 'rolled back').toEqual({ a: 1, b: undefined });
    expect(part.nextOffset).toBe(START + 1);
    expect(part.changelogEnd).toBeNull();
    expect(metrics.transactions.map((t) => t.result)).toEqual(['commit', 'fenced']);
    expect(metrics.chunks).toHaveLength(1);
    expect(
      await task.processChunk('clicks', records(START + 1, 'a')),
      'nothing runs before the rebuild',
    ).toBe('not-running');
  });

  describe('a commit whose outcome is unknown is settled by a new producer and the committed offset', () => {
    it('committed offset at the chunk end: committed, values kept', async () => {
      const { task, part, valuesOf, cluster, metrics } = runningTask();
      cluster.script({ fail: 'unknown', committed: 'chunk-end' });

      const outcome = await task.processChunk('clicks', records(START, 'a', 'b', 'a'));

      expect(outcome).toBe('committed');
      expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
      expect(part.nextOffset).toBe(START + 3);
      expect(part.changelogEnd, "the changelog's high watermark, read after settling").toBe(
        CHANGELOG_HIGH + 2 + 1,
      );
      expect(task.restored).toBe(true);
      expect(task.lifecycle.state).toBe('running');
      expect(cluster.producers, 'settled by a new producer').toHaveLength(2);
      expect(cluster.producers[0]!.closed).toBe(true);
      expect(metrics.transactions.map((t) => t.result)).toEqual(['unknown']);
      expect(
        metrics.chunks.map((c) => c.chunk.recordsIn),
        'its counts are reported once',
      ).toEqual([3]);

      // The task goes on with the settling producer.
      expect(await task.processChunk('clicks', records(START + 3, 'b'))).toBe('committed');
      expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 2 });
      expect(cluster.transactions.at(-1)!.producer).toBe(1);
      expect(cluster.producers).toHaveLength(2);
    });

    it('committed offset still at the chunk start: a retry, rolled back', async () => {
      const { task, part, valuesOf, cluster, metrics } = runningTask();
      expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
      cluster.script({ fail: 'unknown', committed: 'previous' });

      const outcome = await task.processChunk('clicks', records(START + 1, 'a', 'b'));

      expect(outcome).toBe('retry');
      expect(valuesOf('a', 'b'), 'the last committed values').toEqual({ a: 1, b: undefined });
      expect(part.nextOffset).toBe(START + 1);
      expect(part.changelogEnd, 'the end after the aborted records and marker').toBe(
        cluster.boundsOf('count-changelog', PARTITION).high,
      );
      expect(part.changelogEnd).toBe(CHANGELOG_HIGH + 2 + 2 + 1);
      expect(task.restored).toBe(true);
      expect(task.lifecycle.state).toBe('running');
      expect(metrics.transactions.map((t) => t.result)).toEqual(['commit', 'unknown']);
      expect(metrics.chunks).toHaveLength(1);

      expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'))).toBe('committed');
      expect(valuesOf('a', 'b'), 'counted once').toEqual({ a: 2, b: 1 });
    });

    it('committed offset anywhere else: a rebuild', async () => {
      const { task, part, valuesOf, cluster, metrics } = runningTask();
      expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
      cluster.script({ fail: 'unknown', committed: START + 2 });

      const outcome = await task.processChunk('clicks', records(START + 1, 'a', 'b', 'c'));

      expect(outcome).toBe('rebuild');
      expect(task.restored).toBe(false);
      expect(task.lifecycle.needsRebuild).toBe(true);
      expect(task.fencedAtMs, 'not fenced by another owner: no backoff before the rebuild').toBeNull();
      expect(valuesOf('a', 'b', 'c')).toEqual({ a: 1, b: undefined, c: undefined });
      expect(part.nextOffset).toBe(START + 1);
      expect(metrics.chunks).toHaveLength(1);
    });

    it('a settlement that fails (no new producer): a rebuild', async () => {
      const { task, part, valuesOf, cluster } = runningTask();
      expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
      cluster.script({ fail: 'unknown', committed: 'chunk-end' });
      cluster.failNextCreate = new Error('coordinator not available');

      const outcome = await task.processChunk('clicks', records(START + 1, 'a'));

      expect(outcome).toBe('rebuild');
      expect(task.restored).toBe(false);
      expect(task.lifecycle.needsRebuild).toBe(true);
      expect(valuesOf('a')).toEqual({ a: 1 });
      expect(part.nextOffset).toBe(START + 1);
    });
  });

  describe('an assignment that suspends the task while its transaction is in flight does not stop it', () => {
    it('committed: the values are kept and the task waits, suspended, for its preparation', async () => {
      const { task, part, valuesOf, cluster } = runningTask();
      cluster.duringCommit = () => task.lifecycle.suspend('reassigned');

      const outcome = await task.processChunk('clicks', records(START, 'a', 'b'));

      expect(outcome).toBe('committed');
      expect(valuesOf('a', 'b')).toEqual({ a: 1, b: 1 });
      expect(part.nextOffset).toBe(START + 2);
      expect(part.changelogEnd).toBe(cluster.boundsOf('count-changelog', PARTITION).high);
      expect(task.restored, 'kept by the next preparation').toBe(true);
      expect(task.lifecycle.state).toBe('suspended');
      expect(task.lifecycle.needsRebuild).toBe(false);
    });

    it('fenced: the rebuild takes over (the store is not restored)', async () => {
      const { task, valuesOf, cluster } = runningTask();
      cluster.duringCommit = () => task.lifecycle.suspend('reassigned');
      cluster.script({ fail: 'fenced' });

      const outcome = await task.processChunk('clicks', records(START, 'a', 'b'));

      expect(outcome).toBe('rebuild');
      expect(valuesOf('a', 'b')).toEqual({ a: undefined, b: undefined });
      expect(task.restored).toBe(false);
      expect(task.lifecycle.state).toBe('suspended');
      expect(task.lifecycle.needsRebuild).toBe(true);
    });
  });

  it('a stage that throws: a retry with nothing kept and nothing sent', async () => {
    const { task, part, valuesOf, cluster, metrics } = runningTask();
    expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');

    const outcome = await task.processChunk('clicks', [
      record(START + 1, 'a'),
      record(START + 2, 'b'),
      record(START + 3, 'c', THROW),
    ]);

    expect(outcome).toBe('retry');
    expect(valuesOf('a', 'b', 'c'), 'the writes before the failure are dropped').toEqual({
      a: 1,
      b: undefined,
      c: undefined,
    });
    expect(part.changes()).toEqual([]);
    expect(part.nextOffset).toBe(START + 1);
    expect(part.changelogEnd, 'nothing was written: still known').toBe(CHANGELOG_HIGH + 2);
    expect(task.lifecycle.state).toBe('running');
    expect(cluster.transactions, 'no transaction for it').toHaveLength(1);
    expect(metrics.transactions.map((t) => t.result)).toEqual(['commit']);
    expect(metrics.chunks).toHaveLength(1);
  });

  it('a stage that finds unreadable state throws it (fatal), keeping nothing', async () => {
    const { task, part, valuesOf, cluster } = runningTask();
    const chunk = [record(START, 'a'), record(START + 1, 'b', CORRUPT)];
    await expect(task.processChunk('clicks', chunk)).rejects.toSatisfy(
      (e) => e instanceof LiftstreamError && e.code === 'STATE_CORRUPT',
    );
    expect(part.changes()).toEqual([]);
    expect(valuesOf('a')).toEqual({ a: undefined });
    expect(cluster.transactions).toHaveLength(0);
  });

  it.each<TaskState>(['created', 'restoring', 'suspended', 'closed'])(
    'processChunk on a %s task starts nothing (not-running)',
    async (state) => {
      const cluster = new FakeCluster('app');
      const { ctx } = fakeContext(cluster);
      const part = subTopology(counterTopology(NAMES)).createPart(PARTITION, ctx);
      const task = new StreamTask([part], PARTITION, ctx, null);
      if (state !== 'created' && state !== 'closed') task.lifecycle.startRestoring();
      if (state === 'suspended') task.lifecycle.suspend('reassigned');
      if (state === 'closed') await task.close();
      expect(task.state).toBe(state);

      expect(await task.processChunk('clicks', records(0, 'a'))).toBe('not-running');
      expect(part.changes()).toEqual([]);
      expect(cluster.producers).toHaveLength(0);
    },
  );

  it("the sweep's evictions ride the chunk's transaction and are reported once it commits", async () => {
    // Retention: a key counted twice or more is dropped (empty value: a tombstone).
    const evict: EvictFn<Count> = (value) =>
      value.n >= 2 ? { state: { n: 0 }, evicted: value.n } : { state: value, evicted: 0 };
    const { task, valuesOf, cluster, metrics, clock, ctx } = runningTask(evict);
    expect(await task.processChunk('clicks', records(START, 'a', 'a', 'b'))).toBe('committed');
    expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
    expect(metrics.evictions, 'the first sweep found an empty store').toEqual([]);

    clock.now += ctx.eviction.intervalMs;
    expect(await task.processChunk('clicks', records(START + 3, 'c'))).toBe('committed');

    expect(valuesOf('a', 'b', 'c')).toEqual({ a: undefined, b: 1, c: 1 });
    expect(
      cluster.transactions.at(-1)!.topicMessages.find((t) => t.topic === 'count-changelog')!.messages,
    ).toEqual([
      { key: 'a', value: null, partition: PARTITION },
      { key: 'c', value: '{"n":1}', partition: PARTITION },
    ]);
    expect(metrics.evictions).toEqual([{ store: 'counts', items: 2 }]);
    expect(metrics.chunks.at(-1)!.chunk.recordsOut.get('changelog')).toBe(2);
  });

  it('close closes the producer, the life cycle and the state', async () => {
    const { task, part, cluster } = runningTask();
    expect(await task.processChunk('clicks', records(START, 'a'))).toBe('committed');
    await task.close();
    expect(task.lifecycle.state).toBe('closed');
    expect(cluster.producers[0]!.closed).toBe(true);
    expect(part.stateSize).toBe(0);
    await task.close();
    expect(task.lifecycle.state, 'closing twice is harmless').toBe('closed');
  });
});

describe('StreamTask with one part per co-partitioned sub-topology (a task per partition)', () => {
  const INGEST = { name: 'ingest', source: 'events', changelog: 'ingest-changelog', target: 'units' };
  /** The ingest part's changelog end before the first chunk. */
  const INGEST_HIGH = 20;
  /** The unit part's changelog end before the first chunk. */
  const UNIT_HIGH = 30;
  /** The unit part's committed input offset before the first chunk. */
  const UNIT_START = 50;
  /** The number of times a chunk's records sent to the task's own sources are processed in place. */
  const MAX_LOCAL_HOPS = 4;

  /**
   * A running task for partition PARTITION of `events` (an ingest part: a counter per key that
   * forwards each record to `units`, keyed by the record's value) and of `units` (a counter per key,
   * writing to `unitSink`), prepared as the task manager leaves it. Keys u2 and u3 land on the other
   * partitions (0 and 2), every other key on the task's own. Each process() call is logged in
   * cluster.events as `process <part> <keys>`.
   */
  function twoPartTask(options: { unitSink?: string } = {}) {
    const three = (high = 0) => [
      { low: 0, high: 0 },
      { low: 0, high },
      { low: 0, high: 0 },
    ];
    const cluster = new FakeCluster('app')
      .topic('events', three(100))
      .topic('units', three(100))
      .topic('ingest-changelog', three(INGEST_HIGH))
      .topic('unit-changelog', three(UNIT_HIGH))
      .topic('unit-totals', three());
    cluster.commitOffset('events', PARTITION, START);
    cluster.commitOffset('units', PARTITION, UNIT_START);
    const fake = fakeContext(cluster);
    const routing = new FakeRouting(
      new Map([
        ['u2', 0],
        ['u3', 2],
      ]),
      PARTITION,
    );
    const logged = (spec: SubTopology<Count>): SubTopology<Count> => ({
      ...spec,
      process: (store, input) => {
        cluster.events.push(`process ${spec.name} ${input.map((r) => r.key!.toString()).join(',')}`);
        return spec.process(store, input);
      },
    });
    const specs = [
      forwarderTopology(INGEST),
      counterTopology({
        name: 'unit',
        source: 'units',
        changelog: 'unit-changelog',
        sink: options.unitSink ?? 'unit-totals',
      }),
    ];
    const [ingest, unit] = specs.map((spec) => subTopology(logged(spec)).createPart(PARTITION, fake.ctx));
    const task = new StreamTask([ingest!, unit!], PARTITION, fake.ctx, routing);
    task.lifecycle.startRestoring();
    task.lifecycle.markRunning();
    task.restored = true;
    ingest!.nextOffset = START;
    ingest!.changelogEnd = INGEST_HIGH;
    unit!.nextOffset = UNIT_START;
    unit!.changelogEnd = UNIT_HIGH;
    /** The committed values of `keys` in the part `name`'s store. */
    const counts = (name: 'ingest' | 'unit', ...keys: string[]) =>
      committedCounts(fake.storages, `${name}-${PARTITION}`, ...keys);
    const high = (topic: string) => cluster.boundsOf(topic, PARTITION).high;
    return { task, ingest: ingest!, unit: unit!, cluster, routing, counts, high, ...fake };
  }

  /** a→u1 and c→u1 land here; b→u2 and d→u3 on other partitions. */
  const CHUNK = [
    record(START, 'a', 'u1'),
    record(START + 1, 'b', 'u2'),
    record(START + 2, 'c', 'u1'),
    record(START + 3, 'd', 'u3'),
  ];

  it('is named for the partition; its first producer fences the ids its parts had as tasks of their own first', async () => {
    const { task, ingest, unit, cluster } = twoPartTask();
    expect(task.transactionalId).toBe('app-task-1');
    expect(task.parts).toEqual([ingest, unit]);
    expect(task.part('events')).toBe(ingest);
    expect(task.part('units')).toBe(unit);

    expect(await task.processChunk('events', [record(START, 'a', 'u1')])).toBe('committed');

    expect(cluster.producers.map((p) => [p.transactionalId, p.closed])).toEqual([
      ['app-ingest-1', true],
      ['app-unit-1', true],
      ['app-task-1', false],
    ]);
    expect(cluster.transactions.map((t) => [t.transactionalId, t.producer])).toEqual([['app-task-1', 2]]);
  });

  it('records sent to its own partition are processed in place, in the same transaction; the others are produced to their partition', async () => {
    const { task, ingest, unit, cluster, routing, counts, high, metrics } = twoPartTask();

    const outcome = await task.processChunk('events', CHUNK);

    expect(outcome).toBe('committed');
    expect(cluster.events, 'the local records, processed once by the unit part, before the commit').toEqual([
      'process ingest a,b,c,d',
      'process unit u1,u1',
      `commit ${START + 4}`,
    ]);
    expect(routing.asked).toEqual(['u1', 'u2', 'u1', 'u3'].map((key) => ({ topic: 'units', key })));
    expect(cluster.transactions).toEqual([
      {
        transactionalId: 'app-task-1',
        producer: 2,
        result: 'committed',
        topicMessages: [
          {
            topic: 'units',
            messages: [
              { key: 'u2', value: 'b', partition: 0 },
              { key: 'u3', value: 'd', partition: 2 },
            ],
          },
          {
            topic: 'unit-totals',
            messages: [
              { key: 'u1', value: '1' },
              { key: 'u1', value: '2' },
            ],
          },
          {
            topic: 'ingest-changelog',
            messages: [
              { key: 'a', value: '{"n":1}', partition: PARTITION },
              { key: 'b', value: '{"n":1}', partition: PARTITION },
              { key: 'c', value: '{"n":1}', partition: PARTITION },
              { key: 'd', value: '{"n":1}', partition: PARTITION },
            ],
          },
          {
            topic: 'unit-changelog',
            messages: [{ key: 'u1', value: '{"n":2}', partition: PARTITION }],
          },
        ],
        offsets: [{ groupId: 'app', topic: 'events', partition: PARTITION, offset: START + 4 }],
      },
    ]);
    expect(
      cluster.transactions[0]!.topicMessages.flatMap((t) => t.messages).filter((m) => m.key === 'u1'),
      'no record for the own partition is produced',
    ).not.toContainEqual(expect.objectContaining({ value: 'a' }));

    expect(counts('ingest', 'a', 'b', 'c', 'd')).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    expect(counts('unit', 'u1', 'u2', 'u3'), 'only the local records').toEqual({
      u1: 2,
      u2: undefined,
      u3: undefined,
    });
    expect([ingest.stateSize, unit.stateSize]).toEqual([4, 1]);
    expect(ingest.nextOffset, "the chunk's source offset").toBe(START + 4);
    expect(unit.nextOffset, 'its source was not read: unchanged').toBe(UNIT_START);
    expect(cluster.committedOffset('events', PARTITION)).toBe(START + 4);
    expect(cluster.committedOffset('units', PARTITION), 'only the chunk source offset is committed').toBe(
      UNIT_START,
    );
    expect(ingest.changelogEnd).toBe(INGEST_HIGH + 4 - 1 + 2);
    expect(unit.changelogEnd).toBe(UNIT_HIGH + 1 - 1 + 2);
    expect([ingest.changelogEnd, unit.changelogEnd]).toEqual([
      high('ingest-changelog'),
      high('unit-changelog'),
    ]);

    expect(metrics.chunks, 'per part, the local records counted in').toEqual([
      {
        stage: 'ingest',
        chunk: {
          recordsIn: 4,
          recordsOut: new Map([
            ['changelog', 4],
            ['forwarded', 2],
          ]),
          // u1 twice: sent to the unit part's own partition.
          recordsInPlace: 2,
          counters: new Map([['forwarded', 4]]),
          receivedAt: [],
        },
      },
      {
        stage: 'unit',
        chunk: {
          recordsIn: 2,
          recordsOut: new Map([
            ['changelog', 1],
            ['totals', 2],
          ]),
          recordsInPlace: 0,
          counters: new Map([['counted', 2]]),
          receivedAt: [],
        },
      },
    ]);
    expect(
      metrics.transactions.map((t) => [t.stage, t.result]),
      "one transaction, the chunk's",
    ).toEqual([['ingest', 'commit']]);

    // A chunk of the unit part's own source builds on what the local records committed.
    expect(await task.processChunk('units', records(UNIT_START, 'u1', 'u4'))).toBe('committed');
    expect(counts('unit', 'u1', 'u4')).toEqual({ u1: 3, u4: 1 });
    expect(counts('ingest', 'a')).toEqual({ a: 1 });
    expect([ingest.nextOffset, unit.nextOffset]).toEqual([START + 4, UNIT_START + 2]);
    expect(cluster.transactions.at(-1)!.offsets).toEqual([
      { groupId: 'app', topic: 'units', partition: PARTITION, offset: UNIT_START + 2 },
    ]);
    expect(
      metrics.chunks.slice(2).map((c) => [c.stage, c.chunk.recordsIn]),
      'the idle part reports nothing',
    ).toEqual([['unit', 2]]);
    expect(metrics.transactions.at(-1)!.stage).toBe('unit');
  });

  it(`a cycle of local forwards stops after ${MAX_LOCAL_HOPS} hops; the rest is produced`, async () => {
    // The unit part forwards each record to its own source, always landing on this partition.
    const { task, unit, cluster, counts, metrics } = twoPartTask({ unitSink: 'units' });

    expect(await task.processChunk('events', [record(START, 'a', 'u1')])).toBe('committed');

    expect(cluster.events).toEqual([
      'process ingest a',
      ...Array.from({ length: MAX_LOCAL_HOPS }, () => 'process unit u1'),
      `commit ${START + 1}`,
    ]);
    expect(counts('unit', 'u1')).toEqual({ u1: MAX_LOCAL_HOPS });
    const sent = cluster.transactions[0]!.topicMessages;
    expect(
      sent.find((t) => t.topic === 'units')!.messages.map((m) => [m.key, m.value]),
      'the last hop is produced',
    ).toEqual([['u1', String(MAX_LOCAL_HOPS)]]);
    expect(sent.find((t) => t.topic === 'unit-changelog')!.messages).toEqual([
      { key: 'u1', value: `{"n":${MAX_LOCAL_HOPS}}`, partition: PARTITION },
    ]);
    expect(unit.nextOffset).toBe(UNIT_START);
    expect(metrics.chunks.find((c) => c.stage === 'unit')!.chunk.recordsIn).toBe(MAX_LOCAL_HOPS);
  });

  it('an aborted commit rolls back both parts', async () => {
    const { task, ingest, unit, cluster, counts, metrics } = twoPartTask();
    expect(await task.processChunk('events', [record(START, 'a', 'u1')])).toBe('committed');

    cluster.script({ fail: 'aborted' });
    const outcome = await task.processChunk('events', CHUNK.slice(1).concat(record(START + 4, 'a', 'u1')));

    expect(outcome).toBe('retry');
    expect(counts('ingest', 'a', 'b', 'c', 'd'), 'the last committed values').toEqual({
      a: 1,
      b: undefined,
      c: undefined,
      d: undefined,
    });
    expect(counts('unit', 'u1')).toEqual({ u1: 1 });
    expect([ingest.changes(), unit.changes()], 'nothing left in either overlay').toEqual([[], []]);
    expect([ingest.stateSize, unit.stateSize]).toEqual([1, 1]);
    expect([ingest.nextOffset, unit.nextOffset]).toEqual([START + 1, UNIT_START]);
    expect([ingest.changelogEnd, unit.changelogEnd], 'unknown after an abort').toEqual([null, null]);
    expect(task.restored).toBe(true);
    expect(task.lifecycle.state).toBe('running');
    expect(metrics.chunks, 'the aborted chunk counts nothing').toHaveLength(2);

    expect(await task.processChunk('events', CHUNK.slice(1).concat(record(START + 4, 'a', 'u1')))).toBe(
      'committed',
    );
    expect(counts('ingest', 'a', 'b', 'c', 'd'), 'counted once').toEqual({ a: 2, b: 1, c: 1, d: 1 });
    expect(counts('unit', 'u1')).toEqual({ u1: 3 });
  });

  describe("a commit whose outcome is unknown is settled by the chunk source's committed offset", () => {
    it("committed: reads that offset only, and both changelogs' high watermarks", async () => {
      const { task, ingest, unit, cluster, counts, high } = twoPartTask();
      cluster.script({ fail: 'unknown', committed: 'chunk-end' });

      const outcome = await task.processChunk('events', CHUNK);

      expect(outcome).toBe('committed');
      expect([...cluster.adminCalls].sort()).toEqual([
        'fetchOffsets app events',
        'fetchTopicOffsets events',
        'fetchTopicOffsets ingest-changelog',
        'fetchTopicOffsets unit-changelog',
      ]);
      expect(counts('ingest', 'a', 'b')).toEqual({ a: 1, b: 1 });
      expect(counts('unit', 'u1')).toEqual({ u1: 2 });
      expect([ingest.nextOffset, unit.nextOffset]).toEqual([START + 4, UNIT_START]);
      expect([ingest.changelogEnd, unit.changelogEnd]).toEqual([
        high('ingest-changelog'),
        high('unit-changelog'),
      ]);
      expect(unit.changelogEnd).toBe(UNIT_HIGH + 1 + 1);
      expect(
        cluster.producers.map((p) => p.transactionalId),
        'settled by a new producer; the legacy ids were fenced once, by the first',
      ).toEqual(['app-ingest-1', 'app-unit-1', 'app-task-1', 'app-task-1']);
      expect(task.restored).toBe(true);
    });

    it('aborted: both parts rolled back, both changelog ends read', async () => {
      const { task, ingest, unit, cluster, counts, high } = twoPartTask();
      cluster.script({ fail: 'unknown', committed: 'previous' });

      const outcome = await task.processChunk('events', CHUNK);

      expect(outcome).toBe('retry');
      expect(cluster.adminCalls.filter((c) => c.startsWith('fetchOffsets'))).toEqual([
        'fetchOffsets app events',
      ]);
      expect(counts('ingest', 'a')).toEqual({ a: undefined });
      expect(counts('unit', 'u1')).toEqual({ u1: undefined });
      expect([ingest.changes(), unit.changes()]).toEqual([[], []]);
      expect([ingest.nextOffset, unit.nextOffset]).toEqual([START, UNIT_START]);
      expect([ingest.changelogEnd, unit.changelogEnd]).toEqual([
        high('ingest-changelog'),
        high('unit-changelog'),
      ]);
      expect(unit.changelogEnd, 'after the aborted record and its marker').toBe(UNIT_HIGH + 2);
    });
  });

  it("two chunks started together run one after the other: the second after the first's commit", async () => {
    const { task, cluster, counts } = twoPartTask();
    let release!: () => void;
    cluster.commitGate = new Promise<void>((resolve) => (release = resolve));
    cluster.duringCommit = () => cluster.events.push('in flight');

    const first = task.processChunk('events', [record(START, 'a', 'u1')]);
    const second = task.processChunk('units', records(UNIT_START, 'u1'));
    await waitFor(() => cluster.events.includes('in flight'), 'the first commit to be in flight');
    await sleep(20);

    expect(cluster.events, 'the second waits for the first commit').toEqual([
      'process ingest a',
      'process unit u1',
      'in flight',
    ]);
    cluster.commitGate = null;
    release();
    expect(await first).toBe('committed');
    expect(await second).toBe('committed');
    expect(cluster.events).toEqual([
      'process ingest a',
      'process unit u1',
      'in flight',
      `commit ${START + 1}`,
      'process unit u1',
      'in flight',
      `commit ${UNIT_START + 1}`,
    ]);
    expect(counts('unit', 'u1'), 'the second read what the first committed').toEqual({ u1: 2 });
  });

  it('a part that throws on a local record fails the chunk for both parts, and does not hold up the next one', async () => {
    const { task, ingest, unit, cluster, counts } = twoPartTask();
    // Forwarded as (u1, "throw"): the unit part throws on it, after the ingest part counted.
    const failing = task.processChunk('events', [record(START, 'a', 'u1'), record(START + 1, THROW, 'u1')]);
    const next = task.processChunk('events', [record(START, 'a', 'u1')]);

    expect(await failing).toBe('retry');
    expect(await next).toBe('committed');
    expect(cluster.events.filter((e) => e.startsWith('commit'))).toEqual([`commit ${START + 1}`]);
    expect(counts('ingest', 'a', THROW)).toEqual({ a: 1, [THROW]: undefined });
    expect(counts('unit', 'u1')).toEqual({ u1: 1 });
    expect([ingest.changes(), unit.changes()]).toEqual([[], []]);
    expect(cluster.transactions).toHaveLength(1);
  });

  it('close waits for the chunk in flight, then closes the producer; a closed task cannot be fenced', async () => {
    const { task, cluster } = twoPartTask();
    let release!: () => void;
    cluster.commitGate = new Promise<void>((resolve) => (release = resolve));
    cluster.duringCommit = () => cluster.events.push('in flight');
    const chunk = task.processChunk('events', [record(START, 'a', 'u1')]);
    await waitFor(() => cluster.events.includes('in flight'), 'the commit to be in flight');

    let closed = false;
    const closing = task.close().then(() => (closed = true));
    const queued = task.processChunk('events', [record(START + 1, 'b', 'u1')]);
    await sleep(20);
    expect(task.lifecycle.state).toBe('closed');
    expect(closed, 'not before the transaction ended').toBe(false);
    expect(cluster.producersOf('app-task-1')[0]!.closed).toBe(false);

    cluster.commitGate = null;
    release();
    expect(await chunk).toBe('committed');
    await closing;
    expect(cluster.producersOf('app-task-1')[0]!.closed).toBe(true);
    expect(cluster.committedOffset('events', PARTITION)).toBe(START + 1);
    expect(await queued, 'a chunk queued behind close never starts').toBe('not-running');
    expect(cluster.transactions).toHaveLength(1);

    const producers = cluster.producers.length;
    await expect(task.fence()).rejects.toThrow('task app-task-1 is closed');
    expect(cluster.producers, 'no producer made for a closed task').toHaveLength(producers);
  });

  it('a chunk of a topic the task does not read throws', async () => {
    const { task, cluster } = twoPartTask();
    await expect(task.processChunk('clicks', records(0, 'a'))).rejects.toThrow(
      'task app-task-1 does not read clicks',
    );
    expect(cluster.transactions).toHaveLength(0);
  });
});

describe('StreamTask with a commit interval (an open transaction across chunks)', () => {
  /** Commits when 100 ms old or holding 10 input records, or when its source is caught up. */
  const POLICY: CommitPolicy = { intervalMs: 100, maxRecords: 10, minSpacingMs: 0 };
  /** More to read after the chunk: the policy decides. */
  const MORE: ChunkOptions = { caughtUp: false, isStale: () => false };
  /** The chunk ends at its partition's high watermark: commit now. */
  const CAUGHT_UP: ChunkOptions = { caughtUp: true, isStale: () => false };
  /** Seeked since the fetch (and caught up: it would commit if it ran). */
  const STALE: ChunkOptions = { caughtUp: true, isStale: () => true };

  /** [key, value] of each record a transaction sent to `topic`. */
  const sentTo = (t: RecordedTransaction | undefined, topic: string) =>
    t?.topicMessages.find((m) => m.topic === topic)?.messages.map((m) => [m.key, m.value]);
  /** [topic, offset] of each source offset a transaction committed for the group. */
  const offsetsOf = (t: RecordedTransaction | undefined) => t?.offsets.map((o) => [o.topic, o.offset]);

  it('chunks with more to read stay open until the transaction is intervalMs old, then commit as one transaction (one changelog record per key)', async () => {
    const { task, part, cluster, valuesOf, clock, metrics } = runningTask(undefined, POLICY);
    const openedAt = clock.now;

    expect(await task.processChunk('clicks', records(START, 'a', 'b'), MORE)).toBe('pending');

    expect(cluster.transactions, 'nothing reaches the broker before the commit').toEqual([]);
    expect(cluster.producers, 'not even a producer').toEqual([]);
    expect([task.hasOpenTransaction, task.openSinceMs]).toEqual([true, openedAt]);
    expect(valuesOf('a', 'b'), 'not committed').toEqual({ a: undefined, b: undefined });
    expect(part.changes(), 'held in the overlay').toEqual([
      { key: 'a', value: '{"n":1}' },
      { key: 'b', value: '{"n":1}' },
    ]);
    expect([part.nextOffset, part.changelogEnd]).toEqual([START, CHANGELOG_HIGH]);
    expect(cluster.committedOffset('clicks', PARTITION)).toBe(START);
    expect(cluster.boundsOf('count-changelog', PARTITION).high).toBe(CHANGELOG_HIGH);
    expect([metrics.chunks, metrics.transactions]).toEqual([[], []]);

    clock.now += POLICY.intervalMs - 1;
    expect(
      await task.processChunk('clicks', records(START + 2, 'a'), MORE),
      'one ms short of the interval',
    ).toBe('pending');
    expect(cluster.transactions).toEqual([]);
    expect(task.openSinceMs, 'the transaction is as old as its first chunk').toBe(openedAt);

    clock.now += 1;
    expect(await task.processChunk('clicks', records(START + 3, 'c', 'a'), MORE)).toBe('committed');

    expect(cluster.transactions).toEqual([
      {
        transactionalId: 'app-count-1',
        producer: 0,
        result: 'committed',
        topicMessages: [
          {
            topic: 'totals',
            messages: [
              { key: 'a', value: '1' },
              { key: 'b', value: '1' },
              { key: 'a', value: '2' },
              { key: 'c', value: '1' },
              { key: 'a', value: '3' },
            ],
          },
          {
            topic: 'count-changelog',
            messages: [
              { key: 'a', value: '{"n":3}', partition: PARTITION },
              { key: 'b', value: '{"n":1}', partition: PARTITION },
              { key: 'c', value: '{"n":1}', partition: PARTITION },
            ],
          },
        ],
        offsets: [{ groupId: 'app', topic: 'clicks', partition: PARTITION, offset: START + 5 }],
      },
    ]);
    expect(valuesOf('a', 'b', 'c')).toEqual({ a: 3, b: 1, c: 1 });
    expect(part.changes()).toEqual([]);
    expect(part.nextOffset, 'after the last chunk').toBe(START + 5);
    expect(part.changelogEnd, 'three changes, then the commit marker').toBe(CHANGELOG_HIGH + 3 - 1 + 2);
    expect(part.changelogEnd).toBe(cluster.boundsOf('count-changelog', PARTITION).high);
    expect([task.hasOpenTransaction, task.openSinceMs]).toEqual([false, null]);
    expect(metrics.chunks, 'the three chunks reported once, together').toEqual([
      {
        stage: 'count',
        chunk: {
          recordsIn: 5,
          recordsOut: new Map([
            ['changelog', 3],
            ['totals', 5],
          ]),
          recordsInPlace: 0,
          counters: new Map([['counted', 5]]),
          receivedAt: [],
        },
      },
    ]);
    expect(metrics.transactions.map((t) => [t.stage, t.result])).toEqual([['count', 'commit']]);
  });

  it('a chunk that ends at the high watermark commits the open transaction at once, whatever its age', async () => {
    const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');

    expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), CAUGHT_UP)).toBe('committed');

    expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 3]]]);
    expect(sentTo(cluster.transactions[0], 'count-changelog')).toEqual([
      ['a', '{"n":2}'],
      ['b', '{"n":1}'],
    ]);
    expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
    expect(part.nextOffset).toBe(START + 3);

    // Caught up with nothing open: the chunk commits alone.
    expect(await task.processChunk('clicks', records(START + 3, 'b'), CAUGHT_UP)).toBe('committed');
    expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 3]], [['clicks', START + 4]]]);
    expect(sentTo(cluster.transactions[1], 'totals')).toEqual([['b', '2']]);
  });

  it('an open transaction holding maxRecords input records commits without the clock moving', async () => {
    const { task, part, cluster, clock } = runningTask(undefined, {
      intervalMs: 100,
      maxRecords: 4,
      minSpacingMs: 0,
    });
    const now = clock.now;

    expect(await task.processChunk('clicks', records(START, 'a', 'b', 'c'), MORE), '3 of 4').toBe('pending');
    expect(await task.processChunk('clicks', records(START + 3, 'd'), MORE), '4 of 4').toBe('committed');

    expect(clock.now).toBe(now);
    expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 4]]]);
    expect(sentTo(cluster.transactions[0], 'totals')?.map(([key]) => key)).toEqual(['a', 'b', 'c', 'd']);
    expect(part.nextOffset).toBe(START + 4);

    // The next transaction counts its own records.
    expect(await task.processChunk('clicks', records(START + 4, 'e', 'f', 'g'), MORE)).toBe('pending');
    expect(cluster.transactions).toHaveLength(1);
  });

  it('an aborted commit drops every chunk of the open transaction: stores back at the last commit, nextOffset unchanged', async () => {
    const { task, part, cluster, valuesOf, metrics } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
    expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), MORE)).toBe('pending');

    cluster.script({ fail: 'aborted' });
    const outcome = await task.processChunk('clicks', records(START + 3, 'c', 'a'), CAUGHT_UP);

    expect(outcome).toBe('retry');
    const aborted = cluster.transactions[1];
    expect([aborted?.result, offsetsOf(aborted)], 'both chunks were one transaction').toEqual([
      'aborted',
      [['clicks', START + 5]],
    ]);
    expect(sentTo(aborted, 'count-changelog')).toEqual([
      ['a', '{"n":3}'],
      ['b', '{"n":1}'],
      ['c', '{"n":1}'],
    ]);
    expect(valuesOf('a', 'b', 'c'), 'the last committed values').toEqual({
      a: 1,
      b: undefined,
      c: undefined,
    });
    expect(part.changes(), 'nothing left of either chunk').toEqual([]);
    expect(part.nextOffset, 'the caller re-reads both chunks from here').toBe(START + 1);
    expect(part.changelogEnd, 'unknown after an abort').toBeNull();
    expect(task.hasOpenTransaction).toBe(false);
    expect(task.restored).toBe(true);
    expect(task.lifecycle.state).toBe('running');
    expect(metrics.transactions.map((t) => t.result)).toEqual(['commit', 'abort']);
    expect(metrics.chunks, 'the dropped chunks count nothing').toHaveLength(1);

    expect(await task.processChunk('clicks', records(START + 1, 'a', 'b', 'c', 'a'), CAUGHT_UP)).toBe(
      'committed',
    );
    expect(valuesOf('a', 'b', 'c'), 'counted once').toEqual({ a: 3, b: 1, c: 1 });
    expect(part.nextOffset).toBe(START + 5);
  });

  it('a fenced commit drops every chunk of the open transaction and means a rebuild', async () => {
    const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
    cluster.script({ fail: 'fenced' });

    expect(await task.processChunk('clicks', records(START + 1, 'b'), CAUGHT_UP)).toBe('rebuild');

    expect(valuesOf('a', 'b')).toEqual({ a: undefined, b: undefined });
    expect(part.changes()).toEqual([]);
    expect(part.nextOffset).toBe(START);
    expect(task.hasOpenTransaction).toBe(false);
    expect(task.lifecycle.needsRebuild).toBe(true);
    expect(await task.flush(), 'nothing left to commit').toBe('committed');
    expect(cluster.transactions.map((t) => t.result)).toEqual(['fenced']);
  });

  describe('a commit of an open transaction whose outcome is unknown is settled against its first and last offsets', () => {
    it('committed at the end of the last chunk: both chunks kept', async () => {
      const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
      cluster.script({ fail: 'unknown', committed: 'chunk-end' });

      expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), CAUGHT_UP)).toBe('committed');

      expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
      expect(part.nextOffset).toBe(START + 3);
      expect(part.changelogEnd).toBe(cluster.boundsOf('count-changelog', PARTITION).high);
      expect(task.hasOpenTransaction).toBe(false);
    });

    it("still at the first chunk's start: both chunks dropped, a retry", async () => {
      const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
      cluster.script({ fail: 'unknown', committed: 'previous' });

      expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), CAUGHT_UP)).toBe('retry');

      expect(valuesOf('a', 'b')).toEqual({ a: undefined, b: undefined });
      expect(part.changes()).toEqual([]);
      expect(part.nextOffset).toBe(START);
      expect(task.restored).toBe(true);
    });

    it('anywhere else (the end of the first chunk only): a rebuild', async () => {
      const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
      cluster.script({ fail: 'unknown', committed: START + 1 });

      expect(await task.processChunk('clicks', records(START + 1, 'b'), CAUGHT_UP)).toBe('rebuild');

      expect(valuesOf('a', 'b')).toEqual({ a: undefined, b: undefined });
      expect(part.changes()).toEqual([]);
      expect(part.nextOffset).toBe(START);
      expect(task.lifecycle.needsRebuild).toBe(true);
    });
  });

  it('a stage that throws in a later chunk drops the earlier chunks of the open transaction too', async () => {
    const { task, part, cluster, valuesOf, metrics } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
    expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), MORE)).toBe('pending');

    const outcome = await task.processChunk(
      'clicks',
      [record(START + 3, 'c'), record(START + 4, 'd', THROW)],
      MORE,
    );

    expect(outcome).toBe('retry');
    expect(valuesOf('a', 'b', 'c')).toEqual({ a: 1, b: undefined, c: undefined });
    expect(part.changes(), "the first chunk's writes are dropped as well").toEqual([]);
    expect(task.hasOpenTransaction).toBe(false);
    expect(part.nextOffset).toBe(START + 1);
    expect(part.changelogEnd, 'nothing was written: still known').toBe(CHANGELOG_HIGH + 2);
    expect(cluster.transactions, 'no transaction for the dropped chunks').toHaveLength(1);
    expect(metrics.transactions.map((t) => t.result)).toEqual(['commit']);
    expect(metrics.chunks).toHaveLength(1);

    // Re-read from the committed offset: a fresh transaction, nothing of the dropped chunks in it.
    expect(await task.processChunk('clicks', records(START + 1, 'b'), CAUGHT_UP)).toBe('committed');
    const last = cluster.transactions.at(-1);
    expect([sentTo(last, 'totals'), sentTo(last, 'count-changelog'), offsetsOf(last)]).toEqual([
      [['b', '1']],
      [['b', '{"n":1}']],
      [['clicks', START + 2]],
    ]);
    expect(valuesOf('a', 'b')).toEqual({ a: 1, b: 1 });
  });

  it('a stale chunk (the consumer was seeked since its fetch) processes nothing and leaves the open transaction as it was', async () => {
    const { task, part, cluster, clock } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a', 'b'), STALE)).toBe('stale');
    expect(task.hasOpenTransaction, 'nothing opened').toBe(false);
    expect(part.changes()).toEqual([]);

    expect(await task.processChunk('clicks', records(START, 'a', 'b'), MORE)).toBe('pending');
    const since = task.openSinceMs;
    clock.now += POLICY.intervalMs;
    expect(await task.processChunk('clicks', records(START + 2, 'a', 'c'), STALE)).toBe('stale');

    expect([task.hasOpenTransaction, task.openSinceMs]).toEqual([true, since]);
    expect(part.changes(), 'the stale records were not processed').toEqual([
      { key: 'a', value: '{"n":1}' },
      { key: 'b', value: '{"n":1}' },
    ]);
    expect(cluster.transactions, 'nor committed the open transaction').toEqual([]);

    expect(await task.flush()).toBe('committed');
    expect(cluster.transactions.map((t) => [offsetsOf(t), sentTo(t, 'totals')])).toEqual([
      [
        [['clicks', START + 2]],
        [
          ['a', '1'],
          ['b', '1'],
        ],
      ],
    ]);
  });

  describe('flush', () => {
    it('commits the open transaction', async () => {
      const { task, part, cluster, valuesOf, metrics } = runningTask(undefined, POLICY);
      expect(await task.processChunk('clicks', records(START, 'a', 'b', 'a'), MORE)).toBe('pending');

      expect(await task.flush()).toBe('committed');

      expect(cluster.transactions.map((t) => [t.result, offsetsOf(t)])).toEqual([
        ['committed', [['clicks', START + 3]]],
      ]);
      expect(sentTo(cluster.transactions[0], 'count-changelog')).toEqual([
        ['a', '{"n":2}'],
        ['b', '{"n":1}'],
      ]);
      expect(valuesOf('a', 'b')).toEqual({ a: 2, b: 1 });
      expect(part.nextOffset).toBe(START + 3);
      expect(task.hasOpenTransaction).toBe(false);
      expect(metrics.chunks.map((c) => c.chunk.recordsIn)).toEqual([3]);
      expect(metrics.transactions.map((t) => [t.stage, t.result])).toEqual([['count', 'commit']]);

      expect(await task.flush(), 'again: nothing open').toBe('committed');
      expect(cluster.transactions).toHaveLength(1);
    });

    it('on a task that stopped running drops the open transaction (not-running)', async () => {
      const { task, part, cluster, valuesOf, metrics } = runningTask(undefined, POLICY);
      expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
      expect(await task.processChunk('clicks', records(START + 1, 'a', 'b'), MORE)).toBe('pending');
      task.lifecycle.suspend('reassigned');

      expect(await task.flush()).toBe('not-running');

      expect(cluster.transactions).toHaveLength(1);
      expect(valuesOf('a', 'b')).toEqual({ a: 1, b: undefined });
      expect(part.changes()).toEqual([]);
      expect(task.hasOpenTransaction).toBe(false);
      expect(
        [part.nextOffset, part.changelogEnd],
        'as the last commit left them: the preparation can keep the state',
      ).toEqual([START + 1, cluster.boundsOf('count-changelog', PARTITION).high]);
      expect(task.restored).toBe(true);
      expect(metrics.transactions).toHaveLength(1);
    });

    it('with nothing open commits nothing', async () => {
      const { task, cluster, metrics } = runningTask(undefined, POLICY);

      expect(await task.flush()).toBe('committed');

      expect(cluster.producers, 'no producer made').toEqual([]);
      expect(cluster.transactions).toEqual([]);
      expect([metrics.transactions, metrics.chunks]).toEqual([[], []]);
    });
  });

  it('discardOpen drops the open transaction after the chunk in flight', async () => {
    const { task, part, cluster, valuesOf } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');

    const inFlight = task.processChunk('clicks', records(START + 1, 'b'), MORE);
    await task.discardOpen();

    expect(await inFlight, 'the chunk ran first').toBe('pending');
    expect(task.hasOpenTransaction).toBe(false);
    expect(part.changes()).toEqual([]);
    expect(valuesOf('a', 'b')).toEqual({ a: undefined, b: undefined });
    expect(part.nextOffset).toBe(START);
    expect(cluster.transactions).toEqual([]);

    expect(await task.processChunk('clicks', records(START, 'c'), CAUGHT_UP)).toBe('committed');
    expect(sentTo(cluster.transactions[0], 'totals'), 'nothing of the dropped chunks').toEqual([['c', '1']]);
    expect(offsetsOf(cluster.transactions[0])).toEqual([['clicks', START + 1]]);
  });

  it('close drops the open transaction: nothing is sent', async () => {
    const { task, part, cluster } = runningTask(undefined, POLICY);
    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
    expect(await task.processChunk('clicks', records(START + 1, 'b'), MORE)).toBe('pending');

    await task.close();

    expect(cluster.transactions).toHaveLength(1);
    expect(cluster.producers[0]!.closed).toBe(true);
    expect(task.hasOpenTransaction).toBe(false);
    expect(await task.flush(), 'a closed task has nothing to commit').toBe('committed');
    expect(cluster.transactions).toHaveLength(1);
    expect(cluster.committedOffset('clicks', PARTITION)).toBe(START + 1);
    expect(part.stateSize).toBe(0);
  });

  describe('a task of two sources (a task per partition)', () => {
    const SUM = { name: 'sum', source: 'views', changelog: 'sum-changelog', sink: 'view-totals' };
    /** The views part's committed input offset before the first chunk. */
    const VIEWS_START = 50;
    /** The sum changelog partition's end before the first chunk. */
    const SUM_HIGH = 30;

    /**
     * A running task for partition PARTITION of clicks (counter `count`) and views (counter `sum`),
     * without local routing, prepared as the task manager leaves it, committing by POLICY.
     */
    function twoSourceTask() {
      const two = (high: number) => [
        { low: 0, high: 0 },
        { low: 0, high },
      ];
      const cluster = new FakeCluster('app')
        .topic('clicks', two(100))
        .topic('views', two(100))
        .topic('count-changelog', two(CHANGELOG_HIGH))
        .topic('sum-changelog', two(SUM_HIGH))
        .topic('totals', two(0))
        .topic('view-totals', two(0));
      cluster.commitOffset('clicks', PARTITION, START);
      cluster.commitOffset('views', PARTITION, VIEWS_START);
      const fake = fakeContext(cluster);
      const [count, sum] = [NAMES, SUM].map((names) =>
        subTopology(counterTopology(names)).createPart(PARTITION, fake.ctx),
      );
      const task = new StreamTask([count!, sum!], PARTITION, fake.ctx, null, POLICY);
      task.lifecycle.startRestoring();
      task.lifecycle.markRunning();
      task.restored = true;
      count!.nextOffset = START;
      count!.changelogEnd = CHANGELOG_HIGH;
      sum!.nextOffset = VIEWS_START;
      sum!.changelogEnd = SUM_HIGH;
      /** The committed values of `keys` in the part `name`'s store. */
      const counts = (name: 'count' | 'sum', ...keys: string[]) =>
        committedCounts(fake.storages, `${name}-${PARTITION}`, ...keys);
      return { task, count: count!, sum: sum!, cluster, counts, ...fake };
    }

    it("chunks of both sources share the open transaction: one commit sends both parts' work and each source's offset", async () => {
      const { task, count, sum, cluster, counts, metrics } = twoSourceTask();
      expect(await task.processChunk('clicks', records(START, 'a', 'b'), MORE)).toBe('pending');

      expect(await task.processChunk('views', records(VIEWS_START, 'v', 'a'), MORE)).toBe('pending');
      expect(cluster.transactions, 'the views chunk joined the open transaction').toEqual([]);
      expect([count.changes().length, sum.changes().length]).toEqual([2, 2]);

      expect(await task.processChunk('clicks', records(START + 2, 'a'), MORE)).toBe('pending');
      expect(await task.flush()).toBe('committed');

      expect(cluster.transactions).toEqual([
        {
          transactionalId: 'app-task-1',
          producer: 2,
          result: 'committed',
          topicMessages: [
            {
              topic: 'totals',
              messages: [
                { key: 'a', value: '1' },
                { key: 'b', value: '1' },
                { key: 'a', value: '2' },
              ],
            },
            {
              topic: 'view-totals',
              messages: [
                { key: 'v', value: '1' },
                { key: 'a', value: '1' },
              ],
            },
            {
              topic: 'count-changelog',
              messages: [
                { key: 'a', value: '{"n":2}', partition: PARTITION },
                { key: 'b', value: '{"n":1}', partition: PARTITION },
              ],
            },
            {
              topic: 'sum-changelog',
              messages: [
                { key: 'v', value: '{"n":1}', partition: PARTITION },
                { key: 'a', value: '{"n":1}', partition: PARTITION },
              ],
            },
          ],
          offsets: [
            { groupId: 'app', topic: 'clicks', partition: PARTITION, offset: START + 3 },
            { groupId: 'app', topic: 'views', partition: PARTITION, offset: VIEWS_START + 2 },
          ],
        },
      ]);
      expect([counts('count', 'a', 'b'), counts('sum', 'v', 'a')]).toEqual([
        { a: 2, b: 1 },
        { v: 1, a: 1 },
      ]);
      expect([count.nextOffset, sum.nextOffset]).toEqual([START + 3, VIEWS_START + 2]);
      expect([count.changelogEnd, sum.changelogEnd]).toEqual([
        cluster.boundsOf('count-changelog', PARTITION).high,
        cluster.boundsOf('sum-changelog', PARTITION).high,
      ]);
      expect([
        cluster.committedOffset('clicks', PARTITION),
        cluster.committedOffset('views', PARTITION),
      ]).toEqual([START + 3, VIEWS_START + 2]);
      expect(
        metrics.transactions.map((t) => [t.stage, t.result]),
        'one transaction, named for the source that opened it',
      ).toEqual([['count', 'commit']]);
      expect(metrics.chunks.map((c) => [c.stage, c.chunk.recordsIn])).toEqual([
        ['count', 3],
        ['sum', 2],
      ]);
    });

    it('a caught-up chunk of one source commits what the other source left open', async () => {
      const { task, count, sum, cluster } = twoSourceTask();
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');

      expect(await task.processChunk('views', records(VIEWS_START, 'v'), CAUGHT_UP)).toBe('committed');

      expect(cluster.transactions.map(offsetsOf)).toEqual([
        [
          ['clicks', START + 1],
          ['views', VIEWS_START + 1],
        ],
      ]);
      expect([count.nextOffset, sum.nextOffset]).toEqual([START + 1, VIEWS_START + 1]);
      expect(task.hasOpenTransaction).toBe(false);
    });

    it('an aborted commit drops the chunks of both sources: both stores at their last commit', async () => {
      const { task, count, sum, cluster, counts } = twoSourceTask();
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
      cluster.script({ fail: 'aborted' });

      expect(await task.processChunk('views', records(VIEWS_START, 'v'), CAUGHT_UP)).toBe('retry');

      expect(cluster.transactions.map((t) => [t.result, offsetsOf(t)])).toEqual([
        [
          'aborted',
          [
            ['clicks', START + 1],
            ['views', VIEWS_START + 1],
          ],
        ],
      ]);
      expect([count.changes(), sum.changes()]).toEqual([[], []]);
      expect([counts('count', 'a'), counts('sum', 'v')]).toEqual([{ a: undefined }, { v: undefined }]);
      expect([count.nextOffset, sum.nextOffset], 'the caller re-reads both sources from here').toEqual([
        START,
        VIEWS_START,
      ]);
      expect(task.hasOpenTransaction).toBe(false);
    });

    it('a stage that throws on a chunk of one source drops what the other source left open', async () => {
      const { task, count, sum, cluster } = twoSourceTask();
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');

      expect(await task.processChunk('views', [record(VIEWS_START, 'v', THROW)], MORE)).toBe('retry');

      expect([count.changes(), sum.changes()]).toEqual([[], []]);
      expect(task.hasOpenTransaction).toBe(false);
      expect(cluster.transactions).toEqual([]);
    });

    describe('a commit whose outcome is unknown is settled by the offsets of both sources', () => {
      it('both at the end: committed', async () => {
        const { task, count, sum, cluster, counts } = twoSourceTask();
        expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
        cluster.script({ fail: 'unknown', committed: 'chunk-end' });

        expect(await task.processChunk('views', records(VIEWS_START, 'v'), CAUGHT_UP)).toBe('committed');

        expect([counts('count', 'a'), counts('sum', 'v')]).toEqual([{ a: 1 }, { v: 1 }]);
        expect([count.nextOffset, sum.nextOffset]).toEqual([START + 1, VIEWS_START + 1]);
        expect(
          cluster.adminCalls.filter((c) => c.startsWith('fetchOffsets')).sort(),
          "each source's committed offset read",
        ).toEqual(['fetchOffsets app clicks', 'fetchOffsets app views']);
      });

      it('both at the start: a retry, both dropped', async () => {
        const { task, count, sum, cluster, counts } = twoSourceTask();
        expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
        cluster.script({ fail: 'unknown', committed: 'previous' });

        expect(await task.processChunk('views', records(VIEWS_START, 'v'), CAUGHT_UP)).toBe('retry');

        expect([counts('count', 'a'), counts('sum', 'v')]).toEqual([{ a: undefined }, { v: undefined }]);
        expect([count.changes(), sum.changes()]).toEqual([[], []]);
        expect([count.nextOffset, sum.nextOffset]).toEqual([START, VIEWS_START]);
        expect(task.lifecycle.state).toBe('running');
      });

      it('one at its end and the other at its start: a rebuild', async () => {
        const { task, count, sum, cluster } = twoSourceTask();
        expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');
        cluster.script({ fail: 'unknown', committed: 'previous' });
        // Someone moved the clicks offset to where this transaction would have put it.
        cluster.duringCommit = () => cluster.commitOffset('clicks', PARTITION, START + 1);

        expect(await task.processChunk('views', records(VIEWS_START, 'v'), CAUGHT_UP)).toBe('rebuild');

        expect([count.changes(), sum.changes()]).toEqual([[], []]);
        expect([count.nextOffset, sum.nextOffset]).toEqual([START, VIEWS_START]);
        expect(task.lifecycle.needsRebuild).toBe(true);
      });
    });

    it('a stale chunk of the other source leaves the open transaction as it was', async () => {
      const { task, count, sum, cluster } = twoSourceTask();
      expect(await task.processChunk('clicks', records(START, 'a'), MORE)).toBe('pending');

      expect(await task.processChunk('views', records(VIEWS_START, 'v'), STALE)).toBe('stale');

      expect(cluster.transactions).toEqual([]);
      expect(task.hasOpenTransaction).toBe(true);
      expect([count.changes().length, sum.changes()]).toEqual([1, []]);
      expect(await task.flush()).toBe('committed');
      expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 1]]]);
    });
  });
});

describe('StreamTask with commit spacing (a caught-up source commits at most every minSpacingMs)', () => {
  /** Caught-up commits at least 100 ms apart; a long interval and many records, so only spacing decides. */
  const SPACED: CommitPolicy = { intervalMs: 10_000, maxRecords: 1_000, minSpacingMs: 100 };
  const CAUGHT_UP: ChunkOptions = { caughtUp: true, isStale: () => false };
  const MORE: ChunkOptions = { caughtUp: false, isStale: () => false };
  const offsetsOf = (t: RecordedTransaction | undefined) => t?.offsets.map((o) => [o.topic, o.offset]);

  it("a quiet task's caught-up chunk commits at once; the next one within the spacing waits for it, then both commit as one", async () => {
    const { task, cluster, clock, valuesOf } = runningTask(undefined, SPACED);
    const firstCommitAt = clock.now;

    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP), 'no commit before').toBe(
      'committed',
    );
    expect(task.commitDueAtMs, 'nothing open').toBeNull();

    clock.now += 30;
    expect(await task.processChunk('clicks', records(START + 1, 'b'), CAUGHT_UP), '30 ms later').toBe(
      'pending',
    );
    expect(task.commitDueAtMs, 'due when the spacing after the first commit ends').toBe(firstCommitAt + 100);
    expect(cluster.transactions).toHaveLength(1);

    clock.now += 69;
    expect(await task.processChunk('clicks', records(START + 2, 'a'), CAUGHT_UP), '99 ms after').toBe(
      'pending',
    );
    clock.now += 1;
    expect(await task.processChunk('clicks', records(START + 3, 'c'), CAUGHT_UP), '100 ms after').toBe(
      'committed',
    );

    expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 1]], [['clicks', START + 4]]]);
    expect(valuesOf('a', 'b', 'c')).toEqual({ a: 2, b: 1, c: 1 });
  });

  it('the spacing runs from when the previous commit began, and flush() commits a waiting transaction early', async () => {
    const { task, cluster, clock } = runningTask(undefined, SPACED);
    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
    clock.now += 40;
    expect(await task.processChunk('clicks', records(START + 1, 'b'), CAUGHT_UP)).toBe('pending');

    // The caller's timer: commits the waiting transaction; the next spacing starts there.
    const flushedAt = clock.now;
    expect(await task.flush()).toBe('committed');
    expect(cluster.transactions.map(offsetsOf)).toEqual([[['clicks', START + 1]], [['clicks', START + 2]]]);
    clock.now += 99;
    expect(await task.processChunk('clicks', records(START + 2, 'c'), CAUGHT_UP)).toBe('pending');
    expect(task.commitDueAtMs, '100 ms after the flush began').toBe(flushedAt + 100);
  });

  it('a chunk with more to read keeps the commit interval as its due time; a caught-up one brings it forward', async () => {
    const { task, clock } = runningTask(undefined, SPACED);
    expect(await task.processChunk('clicks', records(START, 'a'), CAUGHT_UP)).toBe('committed');
    const committedAt = clock.now;
    clock.now += 10;
    expect(await task.processChunk('clicks', records(START + 1, 'b'), MORE)).toBe('pending');
    expect(task.commitDueAtMs, 'the interval after the transaction opened').toBe(committedAt + 10 + 10_000);
    expect(await task.processChunk('clicks', records(START + 2, 'c'), CAUGHT_UP)).toBe('pending');
    expect(task.commitDueAtMs, 'the spacing after the last commit').toBe(committedAt + 100);
  });

  it('minSpacingMs 0 commits every caught-up chunk at once (the default)', async () => {
    const { task, cluster } = runningTask(undefined, { ...SPACED, minSpacingMs: 0 });
    for (let i = 0; i < 3; i++) {
      expect(await task.processChunk('clicks', records(START + i, 'a'), CAUGHT_UP)).toBe('committed');
    }
    expect(cluster.transactions).toHaveLength(3);
  });
});
