import type { KafkaMessage } from 'kafkajs';
import type { BatchOutput } from './batch-output.ts';
import type { EvictFn } from './stores/eviction-sweep.ts';
import type { StoreCodec, TransactionalStore } from './stores/transactional-store.ts';
import type { TaskContext } from './stream-task.ts';
import { createTaskPart, type TaskPart } from './task-part.ts';

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
  /** This sub-topology's part of a task for `partition` (its store named `<name>-<partition>`). */
  createPart(partition: number, ctx: TaskContext): TaskPart;
}

/** Declares a sub-topology (its value type stays inside the node). */
export function subTopology<V extends object>(spec: SubTopology<V>): SubTopologyNode {
  return {
    name: spec.name,
    source: spec.source,
    changelog: spec.store.changelog,
    createPart: (partition, ctx) =>
      createTaskPart(spec, ctx.storage(`${spec.name}-${partition}`), {
        cacheKeys: ctx.cacheKeysPerTask,
        eviction: ctx.eviction,
      }),
  };
}

/**
 * The application: sub-topologies whose sources one consumer group reads, and how they are cut
 * into tasks:
 * - `per-sub-topology`: a task per sub-topology and source partition; everything one sends to
 *   another goes through Kafka;
 * - `per-partition`: the sources are co-partitioned (same partition count, keys partitioned alike),
 *   a task owns partition p of every source, the group assigns all of them to one member, and
 *   records a sub-topology sends to a source partition of the same task are processed in place,
 *   in the same transaction (see StreamTask).
 */
export interface Topology {
  subTopologies: readonly SubTopologyNode[];
  tasks: { kind: 'per-sub-topology' } | { kind: 'per-partition'; partitions: number };
}
