/**
 * Fakes for unit tests of the stream runtime (shared/streams/), no broker: a tiny in-memory cluster
 * (partition bounds, the group's committed offsets) behind a fake Admin and fake transactional
 * producers whose commits are scripted, a metrics recorder, and a counter sub-topology.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, KafkaMessage, RecordMetadata, TopicMessages } from 'kafkajs';
import { LiftstreamError } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { BatchOutput } from '../../../shared/streams/batch-output.ts';
import type {
  CommittedChunk,
  RuntimeMetrics,
  TransactionResult,
} from '../../../shared/streams/runtime-metrics.ts';
import { MemoryStorage } from '../../../shared/streams/stores/committed-storage.ts';
import type { EvictFn } from '../../../shared/streams/stores/eviction-sweep.ts';
import type { StoreCodec } from '../../../shared/streams/stores/transactional-store.ts';
import type { LocalRouting, TaskContext, TaskTransactions } from '../../../shared/streams/stream-task.ts';
import { TransactionFailed, type TransactionOffsets } from '../../../shared/streams/task-producer.ts';
import type { SubTopology } from '../../../shared/streams/topology.ts';

/** Bounds of one partition: log start and high watermark. */
export interface Bounds {
  low: number;
  high: number;
}

/**
 * How the next commit() of any fake producer ends:
 * - `commit`: the transaction commits (records and a commit marker appended, the group offset moved);
 * - `aborted` / `fenced`: it fails before anything was sent (nothing appended);
 * - `unknown`: EndTxn failed; `committed` says what really happened: `chunk-end` (it committed),
 *   `previous` (it was aborted: records and an abort marker appended, the group offset unchanged), or
 *   a number (the group's committed offset was moved there by someone else).
 */
export type CommitStep =
  | 'commit'
  | { fail: 'aborted' | 'fenced' }
  | { fail: 'unknown'; committed: 'chunk-end' | 'previous' | number };

/** One commit() call, as the producer received it. */
export interface RecordedTransaction {
  transactionalId: string;
  /** Which producer (index in FakeCluster.producers). */
  producer: number;
  topicMessages: TopicMessages[];
  offsets: TransactionOffsets[];
  result: 'committed' | 'aborted' | 'fenced' | 'unknown';
}

/**
 * Topics (partition bounds), the consumer group's committed offsets, and the producers created for
 * the tasks. A topic made with `retainsNothing` reports its log start equal to its end (every record
 * already deleted): a changelog a restore has nothing to read from, so no restore consumer is made.
 */
export class FakeCluster {
  readonly producers: FakeProducer[] = [];
  readonly transactions: RecordedTransaction[] = [];
  /** Ordered log of what happened (`commit <offset>` when a transaction committed), for tests to add their own events. */
  readonly events: string[] = [];
  /** Called while a transaction is in flight (after its records were handed over, before it ends). */
  duringCommit: (() => void) | null = null;
  /** While set, every producer's close() waits for it (a disconnect that takes a while). */
  closeGate: Promise<void> | null = null;
  /**
   * While set, every commit() waits for it once its transaction is in flight (after duringCommit):
   * a deferred commit, to observe what happens meanwhile.
   */
  commitGate: Promise<void> | null = null;
  /** Every Admin call, as `fetchOffsets <group> <topics>` or `fetchTopicOffsets <topic>`. */
  readonly adminCalls: string[] = [];
  /** Thrown by the next createProducer(), then cleared. */
  failNextCreate: Error | null = null;
  private readonly bounds = new Map<string, Bounds[]>();
  private readonly emptied = new Set<string>();
  private readonly committed = new Map<string, number>();
  private readonly steps: CommitStep[] = [];

  constructor(readonly groupId: string) {}

  topic(name: string, partitions: readonly Bounds[], options: { retainsNothing?: boolean } = {}): this {
    this.bounds.set(
      name,
      partitions.map((b) => ({ ...b })),
    );
    if (options.retainsNothing === true) this.emptied.add(name);
    return this;
  }

  boundsOf(topic: string, partition: number): Bounds {
    const bounds = this.bounds.get(topic)?.[partition];
    if (bounds === undefined) throw new Error(`fake cluster: no ${topic}/${partition}`);
    return { ...bounds };
  }

  /** Sets the group's committed offset of `topic`/`partition`. */
  commitOffset(topic: string, partition: number, offset: number): void {
    this.committed.set(`${topic}:${partition}`, offset);
  }

  committedOffset(topic: string, partition: number): number | undefined {
    return this.committed.get(`${topic}:${partition}`);
  }

  /** Scripts how the next commits end (in order; `commit` once the script is used up). */
  script(...steps: CommitStep[]): void {
    this.steps.push(...steps);
  }

  producersOf(transactionalId: string): FakeProducer[] {
    return this.producers.filter((p) => p.transactionalId === transactionalId);
  }

  readonly createProducer = async (transactionalId: string): Promise<FakeProducer> => {
    await Promise.resolve();
    const failure = this.failNextCreate;
    if (failure !== null) {
      this.failNextCreate = null;
      throw failure;
    }
    const producer = new FakeProducer(this, transactionalId, this.producers.length);
    this.producers.push(producer);
    return producer;
  };

  /** What the runtime calls of an Admin (offsets.ts): fetchOffsets and fetchTopicOffsets. */
  readonly admin: Admin = {
    fetchOffsets: async ({ groupId, topics }: { groupId: string; topics?: string[] }) => {
      this.adminCalls.push(`fetchOffsets ${groupId} ${(topics ?? []).join(',')}`);
      if (groupId !== this.groupId) throw new Error(`fake cluster: unknown group ${groupId}`);
      return (topics ?? []).map((topic) => ({
        topic,
        partitions: this.partitionsOf(topic).map((_, partition) => ({
          partition,
          offset: String(this.committed.get(`${topic}:${partition}`) ?? -1),
          metadata: null,
        })),
      }));
    },
    fetchTopicOffsets: async (topic: string) => {
      this.adminCalls.push(`fetchTopicOffsets ${topic}`);
      return this.partitionsOf(topic).map(({ low, high }, partition) => ({
        partition,
        offset: String(high),
        high: String(high),
        low: String(low),
      }));
    },
  } as unknown as Admin;

  /** @internal the next scripted step. */
  nextStep(): CommitStep {
    return this.steps.shift() ?? 'commit';
  }

  /**
   * @internal appends `topicMessages` (a partition per message, 0 when it names none), then a
   * transaction marker per partition written; returns the produce metadata.
   */
  append(topicMessages: readonly TopicMessages[]): RecordMetadata[] {
    const metadata: RecordMetadata[] = [];
    const touched = new Set<Bounds>();
    for (const { topic, messages } of topicMessages) {
      const byPartition = new Map<number, number>();
      for (const m of messages) {
        const partition = m.partition ?? 0;
        byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
      }
      for (const [partition, count] of byPartition) {
        const bounds = this.partitionsOf(topic)[partition];
        if (bounds === undefined) throw new Error(`fake cluster: no ${topic}/${partition}`);
        metadata.push({ topicName: topic, partition, errorCode: 0, baseOffset: String(bounds.high) });
        bounds.high += count;
        touched.add(bounds);
      }
    }
    for (const bounds of touched) bounds.high += 1; // the transaction marker
    for (const topic of this.emptied) for (const b of this.partitionsOf(topic)) b.low = b.high;
    return metadata;
  }

  private partitionsOf(topic: string): Bounds[] {
    const partitions = this.bounds.get(topic);
    if (partitions === undefined) throw new Error(`fake cluster: unknown topic ${topic}`);
    return partitions;
  }
}

/** A task's transactional producer whose commits end as the cluster's script says (like TaskProducer, broken after any failure). */
export class FakeProducer implements TaskTransactions {
  broken = false;
  closed = false;

  constructor(
    private readonly cluster: FakeCluster,
    readonly transactionalId: string,
    private readonly index: number,
  ) {}

  async commit(
    topicMessages: TopicMessages[],
    offsets: readonly TransactionOffsets[],
  ): Promise<RecordMetadata[]> {
    if (this.closed) throw new Error(`fake producer ${this.transactionalId}#${this.index} used after close`);
    if (this.broken)
      throw new TransactionFailed('aborted', new Error('producer is broken; create a new one'));
    // The transaction takes a moment: anything the caller does "after the commit" happens after this.
    await sleep(1);
    this.cluster.duringCommit?.();
    await this.cluster.commitGate;
    const step = this.cluster.nextStep();
    const record = (result: RecordedTransaction['result']): void => {
      this.cluster.transactions.push({
        transactionalId: this.transactionalId,
        producer: this.index,
        topicMessages: structuredClone(topicMessages),
        offsets: offsets.map((o) => ({ ...o })),
        result,
      });
    };
    if (step === 'commit') {
      const metadata = this.cluster.append(topicMessages);
      for (const o of offsets) this.cluster.commitOffset(o.topic, o.partition, o.offset);
      record('committed');
      this.cluster.events.push(`commit ${offsets.map((o) => o.offset).join(',')}`);
      return metadata;
    }
    this.broken = true;
    record(step.fail);
    if (step.fail === 'unknown') {
      if (step.committed === 'chunk-end') {
        this.cluster.append(topicMessages);
        for (const o of offsets) this.cluster.commitOffset(o.topic, o.partition, o.offset);
      } else if (step.committed === 'previous') {
        this.cluster.append(topicMessages); // records, then an abort marker
      } else {
        for (const o of offsets) this.cluster.commitOffset(o.topic, o.partition, step.committed);
      }
    }
    throw new TransactionFailed(step.fail, new Error(`scripted ${step.fail}`));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cluster.closeGate;
  }
}

/** Every RuntimeMetrics call, by kind. */
export class RecordingMetrics implements RuntimeMetrics {
  readonly transactions: { stage: string; result: TransactionResult; seconds: number | undefined }[] = [];
  readonly chunks: { stage: string; chunk: CommittedChunk }[] = [];
  readonly evictions: { store: string; items: number }[] = [];
  readonly lags: { topic: string; partition: number; lag: number | null }[] = [];
  readonly restores: { seconds: number; records: number }[] = [];

  transactionEnded(stage: string, result: TransactionResult, seconds?: number): void {
    this.transactions.push({ stage, result, seconds });
  }

  chunkCommitted(stage: string, chunk: CommittedChunk): void {
    this.chunks.push({ stage, chunk });
  }

  evicted(store: string, items: number): void {
    this.evictions.push({ store, items });
  }

  consumerLag(topic: string, partition: number, lag: number | null): void {
    this.lags.push({ topic, partition, lag });
  }

  restored(seconds: number, records: number): void {
    this.restores.push({ seconds, records });
  }
}

/** A Kafka client that fails the test if the runtime touches it (no restore consumer expected). */
export const unusableKafka = new Proxy(
  {},
  {
    get(_target, property) {
      if (property === 'then') return undefined;
      throw new Error(`the test's Kafka client was used (${String(property)}): no broker here`);
    },
  },
) as Kafka;

export interface FakeContext {
  ctx: TaskContext;
  metrics: RecordingMetrics;
  /** The clock ctx.now() reads (unix ms). */
  /**
   * The clocks ctx.now() (wall, unix ms) and ctx.monotonicNow() read: `monotonic` when set, else
   * `now` (one clock for both: a test moves time once).
   */
  clock: { now: number; monotonic?: number };
  /** The committed storage ctx.storage() made for each store name (`<sub-topology>-<partition>`), the latest one. */
  storages: Map<string, MemoryStorage>;
}

/** A TaskContext over `cluster`: memory storage, a silent logger, a settable clock. */
export function fakeContext(
  cluster: FakeCluster,
  options: { eviction?: TaskContext['eviction'] } = {},
): FakeContext {
  const metrics = new RecordingMetrics();
  const clock: { now: number; monotonic?: number } = { now: 1_700_000_000_000 };
  const storages = new Map<string, MemoryStorage>();
  const ctx: TaskContext = {
    kafka: unusableKafka,
    admin: cluster.admin,
    appId: cluster.groupId,
    createProducer: cluster.createProducer,
    metrics,
    logger: createLogger('streams-test', 'silent'),
    now: () => clock.now,
    monotonicNow: () => clock.monotonic ?? clock.now,
    eviction: options.eviction ?? { intervalMs: 60_000, keysPerStep: 100 },
    storage: (name) => {
      const storage = new MemoryStorage();
      storages.set(name, storage);
      return storage;
    },
    cacheKeysPerTask: 100,
  };
  return { ctx, metrics, clock, storages };
}

/** A counter's stored value. */
export interface Count {
  n: number;
}

export const countCodec: StoreCodec<Count> = {
  name: 'counts',
  encode: (value) => JSON.stringify(value),
  decode: (json) => {
    const value = JSON.parse(json) as Partial<Count>;
    return typeof value.n === 'number' ? { ok: true, value: { n: value.n } } : { ok: false, error: 'no n' };
  },
  isEmpty: (value) => value.n === 0,
};

/**
 * The committed counts of `keys` in the store named `store` (`<sub-topology>-<partition>`), read from
 * its committed storage (undefined: absent). What a transaction wrote shows here only once it committed.
 */
export function committedCounts(
  storages: ReadonlyMap<string, MemoryStorage>,
  store: string,
  ...keys: string[]
): Record<string, number | undefined> {
  const storage = storages.get(store);
  if (storage === undefined) throw new Error(`no store ${store}`);
  return Object.fromEntries(
    keys.map((k) => {
      const json = storage.get(k);
      return [k, json === undefined ? undefined : (JSON.parse(json) as Count).n];
    }),
  );
}

/**
 * Local routing (the producer's partitioner) whose answers the test sets: `partitions` maps a key to
 * its partition, `fallback` for any other key. Every question is recorded.
 */
export class FakeRouting implements LocalRouting {
  readonly asked: { topic: string; key: string }[] = [];

  constructor(
    readonly partitions: Map<string, number>,
    public fallback: number,
  ) {}

  partitionOf(topic: string, key: string): number {
    this.asked.push({ topic, key });
    return this.partitions.get(key) ?? this.fallback;
  }
}

/** Value of an input record that makes the stage throw (after it counted the records before it). */
export const THROW = 'throw';
/** Value of an input record that makes the stage throw STATE_CORRUPT (fatal). */
export const CORRUPT = 'corrupt';

/**
 * A counter per key: each input record with key k increments the stored {n} of k and pushes one
 * record (k, n) to the sink, and counts `counted`.
 */
export function counterTopology(
  names: { name: string; source: string; changelog: string; sink: string },
  evict: EvictFn<Count> = (value) => ({ state: value, evicted: 0 }),
): SubTopology<Count> {
  return {
    name: names.name,
    source: names.source,
    store: { changelog: names.changelog, codec: countCodec, evict },
    sinks: { totals: names.sink },
    process(store, records) {
      const out = new BatchOutput();
      for (const record of records) {
        const value = record.value?.toString('utf8');
        if (value === THROW) throw new Error('the stage failed');
        if (value === CORRUPT) throw new LiftstreamError('STATE_CORRUPT', 'unreadable state');
        const key = record.key!.toString('utf8');
        const n = (store.get(key)?.n ?? 0) + 1;
        store.set(key, { n });
        out.push(names.sink, key, String(n));
        out.count('counted');
      }
      return out;
    },
  };
}

/**
 * A forwarder: each input record (k, v) increments the stored {n} of k, pushes one record keyed by v
 * (the derived key), value k, to `target` (another sub-topology's source), and counts `forwarded`.
 */
export function forwarderTopology(names: {
  name: string;
  source: string;
  changelog: string;
  target: string;
}): SubTopology<Count> {
  return {
    name: names.name,
    source: names.source,
    store: {
      changelog: names.changelog,
      codec: countCodec,
      evict: (value) => ({ state: value, evicted: 0 }),
    },
    sinks: { forwarded: names.target },
    process(store, records) {
      const out = new BatchOutput();
      for (const record of records) {
        const key = record.key!.toString('utf8');
        const n = (store.get(key)?.n ?? 0) + 1;
        store.set(key, { n });
        out.push(names.target, record.value!.toString('utf8'), key);
        out.count('forwarded');
      }
      return out;
    },
  };
}

/** An input record at `offset` with `key` (and an optional value). */
export function record(offset: number, key: string, value = 'v'): KafkaMessage {
  return {
    key: Buffer.from(key),
    value: Buffer.from(value),
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: {},
  };
}

/** Records at consecutive offsets from `first`, one per key. */
export function records(first: number, ...keys: string[]): KafkaMessage[] {
  return keys.map((key, i) => record(first + i, key));
}

/** Polls `condition` every few ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}
