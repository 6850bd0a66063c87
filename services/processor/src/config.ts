import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { LiftstreamError } from '../../../shared/errors.ts';
import { commonEnvSchema, toCommonConfig } from '../../../shared/config/common-config.ts';
import type { CommonConfig } from '../../../shared/config/common-config.ts';
import { loadEnv, nonNegativeInt, port, positiveInt } from '../../../shared/config/load-env.ts';

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;

/** The processor's environment: the common variables plus its own. */
export const processorEnvSchema = commonEnvSchema.extend({
  /**
   * Consumer group id and transactional-id prefix (`<appId>-<stage>-<partition>`). Every instance
   * of one deployment shares it; two deployments on one cluster need different ones.
   */
  PROCESSOR_APP_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,200}$/, 'letters, digits, . _ - only')
    .default('liftstream-processor'),
  /** Projects, their attribution mode and declared dimensions (shared/projects/project-catalog.ts). */
  PROJECTS_FILE: z.string().min(1, 'path to the projects JSON file'),
  /** State retention: tracks and message ids older than this are evicted, days (gateway backfill window). */
  RETENTION_DAYS: positiveInt.default(30),
  /** Interface of the health/metrics endpoint; loopback by default. */
  PROCESSOR_HOST: z.string().min(1).default('127.0.0.1'),
  PROCESSOR_PORT: port.default(8070),
  /**
   * Records per chunk, and per transaction once reached (a transaction holds fewer than twice this):
   * bounds a transaction's size and the time between heartbeats.
   */
  MAX_RECORDS_PER_TRANSACTION: positiveInt.default(2_000),
  /**
   * Longest a transaction stays open while a partition has more to read, ms (Kafka Streams'
   * commit.interval.ms, 100 under exactly-once); 0 commits every fetched chunk. A caught-up
   * partition commits at once, so this adds no latency when the processor keeps up.
   */
  COMMIT_INTERVAL_MS: nonNegativeInt.default(100),
  /**
   * Least time between the starts of a task's commits when its partition is caught up, ms. 0 commits a
   * caught-up chunk at once (a transaction per fetch while the processor keeps up); more keeps the
   * transaction open until then (a timer commits it), so a busy task commits at most 1000 / this
   * times a second. A quiet task's first chunk commits at once either way. At most COMMIT_INTERVAL_MS
   * (a transaction never stays open longer than that).
   */
  COMMIT_MIN_SPACING_MS: nonNegativeInt.default(0),
  /** Bytes fetched per partition per request (kafkajs maxBytesPerPartition). */
  FETCH_MAX_BYTES_PER_PARTITION: positiveInt.default(MIB),
  /** How long a fetch waits for data when there is none, ms (latency when idle). */
  FETCH_MAX_WAIT_MS: positiveInt.default(100),
  /** The broker aborts a transaction open longer than this, ms. */
  TRANSACTION_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * First retry of a transaction's failed sendBatch (AddPartitionsToTxn, Produce), ms; later ones double
   * up to 2 s (10 retries). A transaction begun right after the task's previous commit is refused
   * (CONCURRENT_TRANSACTIONS) until that one's markers are written, a few ms, and kafkajs retries it after
   * this long: up to a third of the commits of a task that keeps up wait it. At most 2000 (the cap of the
   * later retries).
   */
  TRANSACTION_FIRST_RETRY_MS: positiveInt.max(2_000).default(10),
  /** Consumer group session timeout, ms: how long a dead instance keeps its partitions. */
  SESSION_TIMEOUT_MS: positiveInt.default(30_000),
  /** Time between the starts of two eviction sweeps over a store, ms. */
  EVICTION_INTERVAL_MS: positiveInt.default(600_000),
  /** Keys examined for eviction per transaction. */
  EVICTION_KEYS_PER_TRANSACTION: positiveInt.default(500),
  /** A restore that has not reached the changelog end after this long fails (and is retried), ms. */
  RESTORE_TIMEOUT_MS: positiveInt.default(300_000),
  /** Retention of the topics the processor creates when missing (not the changelogs), ms. */
  TOPIC_RETENTION_MS: positiveInt.default(7 * DAY_MS),
  /** How long shutdown waits for the current transactions before exiting anyway, ms. */
  SHUTDOWN_GRACE_MS: positiveInt.default(15_000),
  /**
   * Where committed task state lives between batches: `disk` (LMDB under STATE_DIR; memory stays
   * bounded by the cache) or `memory` (the heap; grows with the keys in the retention window). Either
   * way the changelog topics are the only copy that counts: both are restored from them.
   */
  STATE_STORE: z.enum(['disk', 'memory']).default('disk'),
  /** Parent directory of the disk store; each process uses (and on stop removes) a directory of its own. */
  STATE_DIR: z.string().min(1).default(path.join(os.tmpdir(), 'liftstream-processor-state')),
  /** Decoded state values kept per store of a task in an LRU cache (hot units are parsed once, not per batch). */
  STATE_CACHE_KEYS_PER_TASK: positiveInt.default(5_000),
  /**
   * How the work is cut into tasks. `per-partition`: one task owns partition p of the ingest and
   * repartition topics (the group assigns them together), and an event whose unit is on that same
   * partition (its own raw id: most events) goes to the unit stage in the same transaction, without
   * the repartition topic. `per-sub-topology`: a task per stage and partition, every event through
   * the repartition topic (the layout before). The two cannot share a consumer group: switch every
   * instance at once.
   */
  PROCESSOR_TASKS: z.enum(['per-partition', 'per-sub-topology']).default('per-partition'),
});

export type ProcessorEnv = z.infer<typeof processorEnvSchema>;

/** The processor's validated configuration; units are in the names. */
export interface ProcessorConfig extends CommonConfig {
  appId: string;
  projectsFile: string;
  retentionMs: number;
  host: string;
  port: number;
  maxRecordsPerTransaction: number;
  commitIntervalMs: number;
  commitMinSpacingMs: number;
  fetchMaxBytesPerPartition: number;
  fetchMaxWaitMs: number;
  transactionTimeoutMs: number;
  transactionFirstRetryMs: number;
  sessionTimeoutMs: number;
  evictionIntervalMs: number;
  evictionKeysPerTransaction: number;
  restoreTimeoutMs: number;
  topicRetentionMs: number;
  shutdownGraceMs: number;
  stateStore: 'disk' | 'memory';
  stateDir: string;
  stateCacheKeysPerTask: number;
  tasks: 'per-partition' | 'per-sub-topology';
}

/** Maps a validated env to the config object. */
export function toProcessorConfig(env: ProcessorEnv): ProcessorConfig {
  return {
    ...toCommonConfig(env),
    appId: env.PROCESSOR_APP_ID,
    projectsFile: env.PROJECTS_FILE,
    retentionMs: env.RETENTION_DAYS * DAY_MS,
    host: env.PROCESSOR_HOST,
    port: env.PROCESSOR_PORT,
    maxRecordsPerTransaction: env.MAX_RECORDS_PER_TRANSACTION,
    commitIntervalMs: env.COMMIT_INTERVAL_MS,
    commitMinSpacingMs: env.COMMIT_MIN_SPACING_MS,
    fetchMaxBytesPerPartition: env.FETCH_MAX_BYTES_PER_PARTITION,
    fetchMaxWaitMs: env.FETCH_MAX_WAIT_MS,
    transactionTimeoutMs: env.TRANSACTION_TIMEOUT_MS,
    transactionFirstRetryMs: env.TRANSACTION_FIRST_RETRY_MS,
    sessionTimeoutMs: env.SESSION_TIMEOUT_MS,
    evictionIntervalMs: env.EVICTION_INTERVAL_MS,
    evictionKeysPerTransaction: env.EVICTION_KEYS_PER_TRANSACTION,
    restoreTimeoutMs: env.RESTORE_TIMEOUT_MS,
    topicRetentionMs: env.TOPIC_RETENTION_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    stateStore: env.STATE_STORE,
    stateDir: env.STATE_DIR,
    stateCacheKeysPerTask: env.STATE_CACHE_KEYS_PER_TASK,
    tasks: env.PROCESSOR_TASKS,
  };
}

/** Validates `env` (process.env by default), failing with every bad variable named. */
export function loadProcessorConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): ProcessorConfig {
  const config = toProcessorConfig(loadEnv(processorEnvSchema, env));
  // A transaction never stays open longer than the commit interval, so a longer spacing would not hold.
  if (config.commitMinSpacingMs > config.commitIntervalMs) {
    throw new LiftstreamError(
      'CONFIG_INVALID',
      `Invalid configuration: COMMIT_MIN_SPACING_MS: must be at most COMMIT_INTERVAL_MS ` +
        `(${config.commitIntervalMs}), got ${config.commitMinSpacingMs}; raise COMMIT_INTERVAL_MS with it`,
    );
  }
  return config;
}
