import type { KafkaMessage } from 'kafkajs';
import type { BatchOutput } from './batch-output.ts';
import type { EvictFn } from './stores/eviction-sweep.ts';
import type { StoreCodec, TransactionalStore } from './stores/transactional-store.ts';
import { StreamTask, type RuntimeTask, type TaskContext } from './stream-task.ts';

/**
 * One sub-topology, declared as data: a source topic, the keyed store its records update (with
 * its changelog topic, partitioned like the source), the processing of a chunk of records
 * against that store, the store's retention rule, and the sink topics it writes. The runtime
 * runs one task per source partition; a task's store and changelog partition have the source
 * partition's number, and each chunk is one transaction (outputs, changelog, input offset).
 */
export interface SubTopology<V extends object> {
  /** Stage name: transactional ids `<appId>-<name>-<partition>`, metric labels. */
  name: string;
  /** The input topic. */
  source: string;
  store: {
    /** Compacted changelog topic, with the source's partition count. */
    changelog: string;
    codec: StoreCodec<V>;
    /** Retention: what to drop from a stored value (run by the eviction sweep). */
    evict: EvictFn<V>;
  };
  /** Output topics by name (metrics label records out by these names). */
  sinks: Readonly<Record<string, string>>;
  /** Processes a chunk of source records against the store; what it returns is sent in the chunk's transaction. */
  process(store: TransactionalStore<V>, records: readonly KafkaMessage[]): Promise<BatchOutput> | BatchOutput;
}

/** A declared sub-topology with its value type erased: what the task manager runs. */
export interface SubTopologyNode {
  readonly name: string;
  readonly source: string;
  readonly changelog: string;
  /** A task for one source partition. */
  createTask(partition: number, ctx: TaskContext): RuntimeTask;
}

/** Declares a sub-topology (its value type stays inside the node). */
export function subTopology<V extends object>(spec: SubTopology<V>): SubTopologyNode {
  return {
    name: spec.name,
    source: spec.source,
    changelog: spec.store.changelog,
    createTask: (partition, ctx) => new StreamTask(spec, partition, ctx),
  };
}

/** The application: sub-topologies whose sources one consumer group reads. */
export interface Topology {
  subTopologies: readonly SubTopologyNode[];
}
