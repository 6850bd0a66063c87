import type { Admin, Consumer, Kafka } from 'kafkajs';
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from '../../../shared/kafka/topics.ts';
import { LiftstreamError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import type { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { MemoryStorage, type CommittedStorage } from '../../../shared/streams/stores/committed-storage.ts';
import { lmdbStorage } from '../../../shared/streams/stores/lmdb-storage.ts';
import { copartitionedAssigner } from '../../../shared/streams/copartitioned-assigner.ts';
import { TaskManager } from '../../../shared/streams/task-manager.ts';
import { TaskProducer } from '../../../shared/streams/task-producer.ts';
import type { ProcessorConfig } from './config.ts';
import { ProcessorMetrics } from './processor-metrics.ts';
import { liftstreamTopology } from './topology/liftstream-topology.ts';
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
 * The work is declared in topology/liftstream-topology.ts; the stream runtime (shared/streams/)
 * runs it: task-manager.ts for the life cycle, stream-task.ts for a transaction.
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
    const topology = liftstreamTopology({
      topics,
      catalog,
      retentionMs: config.retentionMs,
      reader: new ConfluentAvroReader(registry),
      encoders,
      logger,
      tasks: config.tasks,
      partitions: await copartitionedCount(admin, [topics.ingest, topics.units], config.tasks),
    });

    const consumer = kafka.consumer({
      groupId: config.appId,
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(config.sessionTimeoutMs / 10)),
      maxBytesPerPartition: config.fetchMaxBytesPerPartition,
      maxWaitTimeInMs: config.fetchMaxWaitMs,
      ...(config.tasks === 'per-partition' ? { partitionAssigners: [copartitionedAssigner] } : {}),
    });
    this.consumer = consumer;
    const tasks = new TaskManager({
      ctx: {
        kafka,
        admin,
        appId: config.appId,
        createProducer: (transactionalId) =>
          TaskProducer.create(kafka, transactionalId, {
            transactionTimeoutMs: config.transactionTimeoutMs,
            firstRetryMs: config.transactionFirstRetryMs,
          }),
        metrics: this.metrics,
        logger,
        now: this.deps.now ?? Date.now,
        monotonicNow: () => performance.now(),
        eviction: { intervalMs: config.evictionIntervalMs, keysPerStep: config.evictionKeysPerTransaction },
        storage,
        cacheKeysPerTask: config.stateCacheKeysPerTask,
      },
      topology,
      seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
      maxRecordsPerTransaction: config.maxRecordsPerTransaction,
      commitIntervalMs: config.commitIntervalMs,
      commitMinSpacingMs: config.commitMinSpacingMs,
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
    const sources = topology.subTopologies.map((t) => t.source);
    await consumer.subscribe({ topics: sources, fromBeginning: true });
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

/**
 * The partition count of `topics`, which tasks per partition need to be equal (the topics created
 * here are; topics created elsewhere may not be). With tasks per sub-topology, any counts do.
 */
async function copartitionedCount(
  admin: Admin,
  topics: readonly string[],
  tasks: ProcessorConfig['tasks'],
): Promise<number> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  const counts = metadata.map((t) => ({ topic: t.name, partitions: t.partitions.length }));
  const first = counts[0]?.partitions ?? 0;
  if (tasks === 'per-partition' && counts.some((c) => c.partitions !== first)) {
    throw new LiftstreamError(
      'CONFIG_INVALID',
      `PROCESSOR_TASKS=per-partition needs the same partition count on ${topics.join(' and ')}; found ` +
        counts.map((c) => `${c.topic}: ${c.partitions}`).join(', ') +
        ' (repartition to match, or set PROCESSOR_TASKS=per-sub-topology)',
    );
  }
  return first;
}
