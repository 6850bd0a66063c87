import type { Admin, Consumer, Kafka } from 'kafkajs';
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from '../../../shared/kafka/topics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import { cupedLookbackByEvent } from '../../../shared/projects/metric-catalog.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import type { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import type { ProcessorConfig } from './config.ts';
import { NO_COVARIATES } from './domain/attribution/covariate-lookback.ts';
import type { UnitState } from './domain/attribution/unit-state.ts';
import { evictIdentity } from './domain/identity/identity-retention.ts';
import type { IdentityState } from './domain/identity/identity-state.ts';
import { ProcessorMetrics } from './processor-metrics.ts';
import { MemoryStorage, type CommittedStorage } from './state/committed-storage.ts';
import { lmdbStorage } from './state/lmdb-storage.ts';
import { identityStoreCodec, unitStoreCodec } from './state/store-codecs.ts';
import { processIdentityBatch } from './tasks/identity-batch.ts';
import type { TaskStage } from './tasks/stream-task.ts';
import { TaskManager } from './tasks/task-manager.ts';
import { processUnitBatch, unitSweepRule } from './tasks/unit-batch.ts';
import { ConfluentAvroReader, registerOutputSchemas } from './transport/avro-codecs.ts';

export interface StreamProcessorDeps {
  config: ProcessorConfig;
  kafka: Kafka;
  registry: AvroSchemaRegistry;
  catalog: ProjectCatalog;
  logger: Logger;
  /** Wall clock for retention, unix ms (tests pass their own). */
  now?: () => number;
  /** Called once on an unrecoverable error (unreadable state, a consumer that gave up). */
  onFatal?: (error: unknown) => void;
}

/**
 * The processor: one group consumer over the ingest and repartition topics (read_committed,
 * no auto-commit), and one task per input partition (identity tasks on ingest, unit tasks on
 * the repartition topic), each with its store, changelog partition and transactional producer.
 * See tasks/task-manager.ts for the life cycle and tasks/stream-task.ts for a transaction.
 */
export class StreamProcessor {
  readonly metrics: ProcessorMetrics;
  readonly topics: TopicNames;
  private admin: Admin | null = null;
  private consumer: Consumer | null = null;
  private tasks: TaskManager | null = null;
  private stateDirectory: LmdbDirectory | null = null;
  private fatal = false;

  constructor(private readonly deps: StreamProcessorDeps) {
    this.topics = topicNames(deps.config.kafka.topicPrefix);
    this.metrics = new ProcessorMetrics(
      () => this.tasks?.stateSize() ?? { identity: 0, units: 0 },
      () => this.stateDirectory?.fileBytes() ?? null,
    );
  }

  /** Creates missing topics, registers the output schemas, joins the group and starts consuming. */
  async start(): Promise<void> {
    const { config, kafka, registry, catalog, logger } = this.deps;
    const topics = this.topics;
    const storage = this.openStateStorage();
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    const created = await ensureTopics(admin, topicSpecs(config.kafka, config.topicRetentionMs));
    if (created.length > 0) logger.info({ topics: created }, 'created topics');
    const encoders = await registerOutputSchemas(registry, topics);
    const reader = new ConfluentAvroReader(registry);
    const onDropped = (stage: string) => (offset: string, reason: string) =>
      logger.warn({ stage, offset, reason }, 'record dropped');

    const identity: TaskStage<IdentityState> = {
      name: 'identity',
      codec: identityStoreCodec,
      evict: (state, nowMs) => evictIdentity(state, nowMs, config.retentionMs),
      process: (store, records) =>
        processIdentityBatch(store, records, {
          reader,
          unitsTopic: topics.units,
          dimensionsOf: (project) => catalog.project(project)?.dimensions ?? [],
          onDropped: onDropped('identity'),
        }),
    };
    // Per project, the CUPED lookback per event name, computed once (the catalog is fixed for the process).
    const covariates = new Map(catalog.projects().map((p) => [p.id, cupedLookbackByEvent(p.metrics)]));
    const units: TaskStage<UnitState> = {
      name: 'units',
      codec: unitStoreCodec,
      evict: unitSweepRule({
        retentionMs: config.retentionMs,
        covariatesOf: (project) => covariates.get(project) ?? NO_COVARIATES,
        encoders,
        topics,
      }),
      process: (store, records) =>
        processUnitBatch(store, records, {
          encoders,
          modeOf: (project) => catalog.project(project)?.attribution ?? 'cumulative',
          covariatesOf: (project) => covariates.get(project) ?? NO_COVARIATES,
          topics,
          onDropped: onDropped('units'),
        }),
    };

    const consumer = kafka.consumer({
      groupId: config.appId,
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(config.sessionTimeoutMs / 10)),
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      maxWaitTimeInMs: config.fetchMaxWaitMs,
    });
    this.consumer = consumer;
    const tasks = new TaskManager({
      ctx: {
        kafka,
        admin,
        appId: config.appId,
        producer: { transactionTimeoutMs: config.transactionTimeoutMs },
        metrics: this.metrics,
        logger,
        now: this.deps.now ?? Date.now,
        eviction: { intervalMs: config.evictionIntervalMs, keysPerStep: config.evictionKeysPerTransaction },
        storage,
        cacheKeysPerTask: config.stateCacheKeysPerTask,
      },
      topics,
      stages: { identity, units },
      seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
      maxRecordsPerTransaction: config.maxRecordsPerTransaction,
      restoreTimeoutMs: config.restoreTimeoutMs,
      fencedBackoffMs: config.sessionTimeoutMs,
      onFatal: (error) => this.onFatal(error),
    });
    this.tasks = tasks;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => tasks.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.onFatal(payload.error);
      else logger.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.ingest, topics.units], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every owned partition may be in a fetch: let all of them run their transactions at once.
      partitionsConsumedConcurrently: 2 * config.kafka.partitions,
      eachBatch: tasks.handleBatch,
    });
    logger.info({ appId: config.appId, topics }, 'processor started');
  }

  /** True once the group was joined and every owned task is restored and ready. */
  isReady(): boolean {
    return !this.fatal && (this.tasks?.isReady() ?? false);
  }

  /**
   * Graceful stop: the consumer finishes the chunks in progress (their transactions commit or
   * abort) and leaves the group, then the producers and the admin client disconnect.
   */
  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.tasks?.close();
    await this.admin?.disconnect().catch(() => undefined);
    this.stateDirectory?.close();
    this.consumer = null;
    this.admin = null;
    this.stateDirectory = null;
  }

  /** Storage for the tasks' committed state (STATE_STORE); the disk one fails now if it cannot be used. */
  private openStateStorage(): (name: string) => CommittedStorage {
    const { config, logger } = this.deps;
    if (config.stateStore === 'memory') return () => new MemoryStorage();
    const directory = LmdbDirectory.open(config.stateDir, {
      setting: 'STATE_DIR',
      what: 'processor state store',
      logger,
    });
    this.stateDirectory = directory;
    logger.info({ dir: directory.dir }, 'task state on disk (LMDB), restored from the changelogs');
    return (name) => lmdbStorage(directory, name);
  }

  private onFatal(error: unknown): void {
    if (this.fatal) return;
    this.fatal = true;
    this.deps.logger.fatal({ err: error }, 'processor cannot continue');
    this.deps.onFatal?.(error);
  }
}
