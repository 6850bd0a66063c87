import type { KafkaMessage } from 'kafkajs';
import type { BatchOutput } from './batch-output.ts';
import type { CommittedStorage } from './stores/committed-storage.ts';
import { EvictionSweep } from './stores/eviction-sweep.ts';
import { TransactionalStore, type StoreChange } from './stores/transactional-store.ts';
import type { SubTopology } from './topology.ts';

/**
 * One sub-topology's share of a task: partition `partition` of its source, its store and the
 * same partition of the store's changelog. A task owns one part (a task per sub-topology and
 * partition) or one part of every sub-topology (a task per partition); either way the part's
 * state changes go out in the task's transactions.
 */
export interface TaskPart {
  /** The sub-topology's name (metric label, store file name). */
  readonly name: string;
  readonly source: string;
  readonly changelogTopic: string;
  /** The store's codec name (evictions metric). */
  readonly storeName: string;
  /** Next source offset to process (the committed offset); -1 before the first preparation. */
  nextOffset: number;
  /**
   * The changelog partition's high watermark as of the last commit or restore, when known
   * exactly; null when an abort or failure left it unknown. Used to keep the state over a
   * rebalance that gives the task back to this instance untouched.
   */
  changelogEnd: number | null;
  /** Committed keys in the store. */
  readonly stateSize: number;
  /** Sink topic → sink name, for the records-out metric. */
  readonly sinkNames: ReadonlyMap<string, string>;
  /** Processes records of its source against the store's batch overlay. */
  process(records: readonly KafkaMessage[]): Promise<BatchOutput> | BatchOutput;
  /** One eviction sweep step into `out`; the number of items evicted. */
  sweepStep(nowMs: number, out: BatchOutput): number;
  /** The store's changes of the current transaction (changelog records). */
  changes(): StoreChange[];
  commit(): void;
  rollback(): void;
  clearState(): void;
  restoreRecord(key: string, value: string | null): void;
  finishRestore(): void;
  drop(): void;
}

/** The part of `spec` for `partition`, its state in `storage`. */
export function createTaskPart<V extends object>(
  spec: SubTopology<V>,
  storage: CommittedStorage,
  options: { cacheKeys: number; eviction: { intervalMs: number; keysPerStep: number } },
): TaskPart {
  return new Part(spec, storage, options);
}

class Part<V extends object> implements TaskPart {
  readonly store: TransactionalStore<V>;
  private readonly sweep: EvictionSweep<V>;
  readonly sinkNames: ReadonlyMap<string, string>;
  nextOffset = -1;
  changelogEnd: number | null = null;

  constructor(
    private readonly spec: SubTopology<V>,
    storage: CommittedStorage,
    options: { cacheKeys: number; eviction: { intervalMs: number; keysPerStep: number } },
  ) {
    this.store = new TransactionalStore(spec.store.codec, storage, options.cacheKeys);
    this.sweep = new EvictionSweep(this.store, spec.store.evict, options.eviction);
    this.sinkNames = new Map(Object.entries(spec.sinks).map(([name, topic]) => [topic, name]));
  }

  get name(): string {
    return this.spec.name;
  }

  get source(): string {
    return this.spec.source;
  }

  get changelogTopic(): string {
    return this.spec.store.changelog;
  }

  get storeName(): string {
    return this.spec.store.codec.name;
  }

  get stateSize(): number {
    return this.store.size;
  }

  process(records: readonly KafkaMessage[]): Promise<BatchOutput> | BatchOutput {
    return this.spec.process(this.store, records);
  }

  sweepStep(nowMs: number, out: BatchOutput): number {
    return this.sweep.step(nowMs, out);
  }

  changes(): StoreChange[] {
    return this.store.changes();
  }

  commit(): void {
    this.store.commit();
  }

  rollback(): void {
    this.store.rollback();
  }

  clearState(): void {
    this.store.clear();
    this.sweep.reset();
    this.changelogEnd = null;
  }

  restoreRecord(key: string, value: string | null): void {
    this.store.restore(key, value);
  }

  finishRestore(): void {
    this.store.flush();
  }

  drop(): void {
    this.store.drop();
  }
}
