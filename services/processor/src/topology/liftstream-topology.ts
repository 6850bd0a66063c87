import type { TopicNames } from '../../../../shared/kafka/topics.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { cupedLookbackByEvent } from '../../../../shared/projects/metric-catalog.ts';
import type { ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { subTopology, type Topology } from '../../../../shared/streams/topology.ts';
import { NO_COVARIATES } from '../domain/attribution/covariate-lookback.ts';
import { evictIdentity } from '../domain/identity/identity-retention.ts';
import type { ConfluentAvroReader, OutputEncoders } from '../transport/avro-codecs.ts';
import { processIdentityBatch } from './identity-batch.ts';
import { identityStoreCodec, unitStoreCodec } from './store-codecs.ts';
import { processUnitBatch, unitSweepRule } from './unit-batch.ts';

export interface LiftstreamTopologyDeps {
  topics: TopicNames;
  catalog: ProjectCatalog;
  /** State retention (RETENTION_DAYS), ms. */
  retentionMs: number;
  reader: ConfluentAvroReader;
  encoders: OutputEncoders;
  logger: Logger;
  /** PROCESSOR_TASKS, and the partition count both sources share (TOPIC_PARTITIONS). */
  tasks: 'per-partition' | 'per-sub-topology';
  partitions: number;
}

/**
 * liftstream's two sub-topologies on the stream runtime:
 * - **identity** (source `ingest`, store keyed by raw identity): dedups by message_id, applies
 *   aliases, and routes each event to its unit on the repartition topic `units`;
 * - **units** (source `units`, store keyed by unit): attribution; emits signed exposure,
 *   attributed and covariate rows, and forwards merged units' content on `units`.
 * Both sources are keyed `<project>/<id>` and share a partition count, so with tasks per
 * partition an event whose unit is its own raw id stays in its task (shared/streams/stream-task.ts).
 */
export function liftstreamTopology(deps: LiftstreamTopologyDeps): Topology {
  const { topics, catalog, reader, encoders, logger } = deps;
  const onDropped = (stage: string) => (offset: string, reason: string) =>
    logger.warn({ stage, offset, reason }, 'record dropped');
  // Per project, the CUPED lookback per event name, computed once (the catalog is fixed for the process).
  const covariates = new Map(catalog.projects().map((p) => [p.id, cupedLookbackByEvent(p.metrics)]));
  const covariatesOf = (project: string) => covariates.get(project) ?? NO_COVARIATES;

  const identity = subTopology({
    name: 'identity',
    source: topics.ingest,
    store: {
      changelog: topics.identityChangelog,
      codec: identityStoreCodec,
      evict: (state, nowMs) => evictIdentity(state, nowMs, deps.retentionMs),
    },
    sinks: { units: topics.units },
    process: (store, records) =>
      processIdentityBatch(store, records, {
        reader,
        unitsTopic: topics.units,
        dimensionsOf: (project) => catalog.project(project)?.dimensions ?? [],
        onDropped: onDropped('identity'),
      }),
  });
  const units = subTopology({
    name: 'units',
    source: topics.units,
    store: {
      changelog: topics.unitsChangelog,
      codec: unitStoreCodec,
      evict: unitSweepRule({ retentionMs: deps.retentionMs, covariatesOf, encoders, topics }),
    },
    sinks: {
      units: topics.units,
      exposures: topics.exposures,
      attributed: topics.attributed,
      covariates: topics.covariates,
    },
    process: (store, records) =>
      processUnitBatch(store, records, {
        encoders,
        modeOf: (project) => catalog.project(project)?.attribution ?? 'cumulative',
        covariatesOf,
        topics,
        onDropped: onDropped('units'),
      }),
  });
  return {
    subTopologies: [identity, units],
    tasks:
      deps.tasks === 'per-partition'
        ? { kind: 'per-partition', partitions: deps.partitions }
        : { kind: 'per-sub-topology' },
  };
}
