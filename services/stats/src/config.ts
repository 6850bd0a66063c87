import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { commonEnvSchema, toCommonConfig } from '../../../shared/config/common-config.ts';
import type { CommonConfig } from '../../../shared/config/common-config.ts';
import { boolFlag, loadEnv, port, positiveInt } from '../../../shared/config/load-env.ts';
import {
  clientLimitsEnvFields,
  toClientLimits,
  withHeadersWithinRequest,
} from '../../../shared/http/client-limits.ts';
import type { ClientLimits } from '../../../shared/http/client-limits.ts';
import { DEFAULT_INSERT_SHARE, type SinkConfig } from '../../sink/src/index.ts';
import { DEFAULT_UI_DIR } from './http/ui-routes.ts';

/**
 * Defaults of MAX_CONNECTIONS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS for a read
 * API: its clients are dashboards, notebooks and scripts, not a fleet of SDKs, so 1,000 connections is
 * ample; its requests are GETs of a few hundred bytes of headers and no body, so 5 s for the headers and
 * 10 s for the whole request are generous on any link and free a slow client's socket sooner. The 72 s
 * keep-alive outlasts the 60 s idle timeout of common load balancers, as the gateway's does.
 */
export const STATS_CLIENT_LIMITS: ClientLimits = {
  maxConnections: 1_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 72_000,
};

const statsEnvFields = commonEnvSchema.extend({
  /** Interface to listen on; loopback by default so a dev box does not expose results. */
  STATS_HOST: z.string().min(1).default('127.0.0.1'),
  STATS_PORT: port.default(8090),
  /** Projects, hashed keys and SRM weights (shared/projects/project-catalog.ts). */
  PROJECTS_FILE: z.string().min(1, 'path to the projects JSON file'),
  /** Run the Kafka → ClickHouse sink in this process. */
  SINK_ENABLED: boolFlag.default(true),
  /** The sink's consumer group; defaults to `<TOPIC_PREFIX>clickhouse-sink`. */
  SINK_GROUP_ID: z.string().min(1).optional(),
  /** Most rows per ClickHouse insert (one insert is one atomic part: keep far below ~1M rows). */
  SINK_BATCH_ROWS: positiveInt.max(500_000).default(50_000),
  /**
   * When fetched records are inserted (services/sink/src/flush-decision.ts), in rounds of one insert per
   * table for every partition fetched: `adaptive` at once, the next fetch held by what the round cost
   * (SINK_INSERT_SHARE), rounds at most SINK_FLUSH_INTERVAL_MS apart; `interval` (the behaviour before issue 19) every fetch, held
   * up to SINK_FLUSH_INTERVAL_MS for SINK_FETCH_MIN_BYTES.
   */
  SINK_FLUSH_MODE: z.enum(['adaptive', 'interval']).default('adaptive'),
  /**
   * The flush interval, ms. adaptive: the longest time between the starts of two insert rounds (reached
   * under heavy load); interval: how long a fetch may wait to gather SINK_FETCH_MIN_BYTES (use 1000 for
   * the old behaviour). 400 rather than 500 since 2026-12-06 (issue 19): at half the max rate rounds are
   * held to this interval, and 400 met the half-rate freshness bar in both paired runs where 500 missed it,
   * with full-load batching still within 10% of interval:1000 (bench/RESULTS.md).
   */
  SINK_FLUSH_INTERVAL_MS: positiveInt.max(60_000).default(400),
  /**
   * adaptive: the share of its time the sink may spend inserting, in (0, 1]. After a round that took T ms
   * the next fetch waits T × (1 / share − 1) (at most until SINK_FLUSH_INTERVAL_MS after the round began):
   * light traffic goes in almost at once, heavy traffic is batched up to the interval.
   */
  SINK_INSERT_SHARE: z.coerce
    .number()
    .gt(0, 'a share of the time: greater than 0')
    .lte(1, 'a share of the time: at most 1')
    .default(DEFAULT_INSERT_SHARE),
  /** interval mode: bytes a fetch waits for (up to SINK_FLUSH_INTERVAL_MS) before returning. */
  SINK_FETCH_MIN_BYTES: positiveInt.default(256 * 1024),
  /** Group session timeout of the sink's consumer, ms. */
  SINK_SESSION_TIMEOUT_MS: positiveInt.min(6_000).default(30_000),
  /** First and largest delay between retries of a failing ClickHouse insert, ms. */
  SINK_RETRY_INITIAL_MS: positiveInt.default(200),
  SINK_RETRY_MAX_MS: positiveInt.default(30_000),
  /**
   * Fetched batches the sink handles at once (kafkajs partitionsConsumedConcurrently); the batches handled
   * together share one insert round, so keep it at least the partitions of its three topics.
   */
  SINK_CONCURRENCY: positiveInt.max(1024).default(64),
  /**
   * Where the sink keeps each unit's totals: `disk` (LMDB under SINK_STATE_DIR, a cache reloaded from
   * ClickHouse) or `memory` (the heap, ~60 B per unit of every running experiment).
   */
  SINK_STATE_STORE: z.enum(['disk', 'memory']).default('disk'),
  /** Parent directory of the disk store; each process uses (and on stop removes) a directory of its own. */
  SINK_STATE_DIR: z.string().min(1).default(path.join(os.tmpdir(), 'liftstream-sink-state')),
  /** How long shutdown waits for in-flight requests, ms. */
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /** The built results page served under /ui (`npm run build:ui`); default dist/ui. */
  STATS_UI_DIR: z.string().min(1).default(DEFAULT_UI_DIR),
  ...clientLimitsEnvFields(STATS_CLIENT_LIMITS),
});

/**
 * The stats service's environment: the common variables, its HTTP listener, and the ClickHouse sink it
 * hosts. The sink lives in this process because embedded chDB allows one data directory per process, so
 * the writer and the reader of the tables must share it (with a ClickHouse server they could be split).
 */
export const statsEnvSchema = withHeadersWithinRequest(statsEnvFields);

export type StatsEnv = z.infer<typeof statsEnvSchema>;

/** The stats service's validated configuration; units are in the names. */
export interface StatsConfig extends CommonConfig, ClientLimits {
  host: string;
  port: number;
  projectsFile: string;
  sinkEnabled: boolean;
  sink: SinkConfig;
  shutdownGraceMs: number;
  /** Directory of the built results page. */
  uiDir: string;
}

export function toStatsConfig(env: StatsEnv): StatsConfig {
  const common = toCommonConfig(env);
  return {
    ...common,
    host: env.STATS_HOST,
    port: env.STATS_PORT,
    projectsFile: env.PROJECTS_FILE,
    sinkEnabled: env.SINK_ENABLED,
    sink: {
      topicPrefix: env.TOPIC_PREFIX,
      groupId: env.SINK_GROUP_ID ?? `${env.TOPIC_PREFIX}clickhouse-sink`,
      batchRows: env.SINK_BATCH_ROWS,
      flushMode: env.SINK_FLUSH_MODE,
      flushIntervalMs: env.SINK_FLUSH_INTERVAL_MS,
      insertShare: env.SINK_INSERT_SHARE,
      fetchMinBytes: env.SINK_FETCH_MIN_BYTES,
      sessionTimeoutMs: env.SINK_SESSION_TIMEOUT_MS,
      retry: {
        initialMs: env.SINK_RETRY_INITIAL_MS,
        maxMs: Math.max(env.SINK_RETRY_MAX_MS, env.SINK_RETRY_INITIAL_MS),
      },
      embeddedClickHouse: common.clickhouse.url === undefined,
      concurrency: env.SINK_CONCURRENCY,
      state:
        env.SINK_STATE_STORE === 'disk' ? { store: 'disk', dir: env.SINK_STATE_DIR } : { store: 'memory' },
    },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    uiDir: env.STATS_UI_DIR,
    ...toClientLimits(env),
  };
}

/** Validates `env` (process.env by default), failing with every bad variable named. */
export function loadStatsConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): StatsConfig {
  return toStatsConfig(loadEnv(statsEnvSchema, env));
}
