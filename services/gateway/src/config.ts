import { z } from 'zod';
import { commonEnvSchema, toCommonConfig } from '../../../shared/config/common-config.ts';
import type { CommonConfig } from '../../../shared/config/common-config.ts';
import { boolFlag, loadEnv, nonNegativeInt, port, positiveInt } from '../../../shared/config/load-env.ts';
import type { RateLimitSetting } from '../../../shared/projects/project-catalog.ts';
import {
  clientLimitsEnvFields,
  toClientLimits,
  withHeadersWithinRequest,
} from '../../../shared/http/client-limits.ts';
import type { ClientLimits } from '../../../shared/http/client-limits.ts';

const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;

/**
 * Defaults of MAX_CONNECTIONS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS. 30 s for
 * the whole request moves a 1 MiB body at 300 kbit/s; the wait for Kafka does not count. fastify's
 * 72 s keep-alive outlasts the 60 s idle timeout of common load balancers, so the gateway never closes
 * a connection a balancer is about to reuse; lower it when clients connect directly.
 */
export const GATEWAY_CLIENT_LIMITS: ClientLimits = {
  maxConnections: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
};

const gatewayEnvFields = commonEnvSchema.extend({
  /** Interface to listen on; loopback by default so a dev box does not expose the gateway. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: port.default(8080),
  /** Projects, hashed keys and event definitions (shared/projects/project-catalog.ts). */
  PROJECTS_FILE: z.string().min(1, 'path to the projects JSON file'),
  /** Events per request (batch array length or ndjson lines). */
  MAX_BATCH_EVENTS: positiveInt.default(1000),
  /** Request body limit in bytes; larger bodies get 413 before they are parsed. */
  MAX_BODY_BYTES: positiveInt.default(MIB),
  /** How old an event timestamp may be, in days. */
  BACKFILL_DAYS: positiveInt.default(30),
  /** How far in the future an event timestamp may be, ms (producer clock skew). */
  MAX_FUTURE_MS: nonNegativeInt.default(300_000),
  /** Longest wait for Kafka to acknowledge a request's records (queueing included); beyond it, 503. */
  PRODUCE_TIMEOUT_MS: positiveInt.default(5_000),
  /** How long an idle producer waits for more requests before sending, ms (Kafka's linger.ms). */
  LINGER_MS: nonNegativeInt.default(2),
  /** Most records in one produce request (whole HTTP requests are never split). */
  MAX_COALESCED_EVENTS: positiveInt.default(5_000),
  /**
   * Most bytes (keys + values + per-record overhead) in one produce request. Below the broker's
   * default message.max.bytes (1 MiB) so that a send fits even if every record lands on one partition.
   */
  MAX_COALESCED_BYTES: positiveInt.default(900_000),
  /** Bytes of records waiting for Kafka beyond which requests get 503 at once (memory bound). */
  MAX_QUEUED_BYTES: positiveInt.default(64 * MIB),
  /**
   * Independent idempotent producers (threads), each with one produce request in flight. One is the
   * most CPU-efficient on a 2-core box (fewer, larger produce requests: kafkajs costs 2-3 ms per
   * request besides its per-record cost); more help only with spare cores.
   */
  PRODUCER_COUNT: positiveInt.max(8).default(1),
  /**
   * Run each producer in a worker thread (kafkajs encodes requests in JavaScript; off the event loop
   * that serves HTTP it costs request latency nothing). `false` keeps kafkajs on the main thread.
   */
  PRODUCER_THREADS: boolFlag.default(true),
  /** Retention of the ingest topic when the gateway creates it, ms. */
  INGEST_RETENTION_MS: positiveInt.default(7 * DAY_MS),
  /** Retry-After header of 503 answers, seconds. */
  RETRY_AFTER_SECONDS: positiveInt.default(2),
  /** How long shutdown waits for in-flight requests and the final flush, ms. */
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /**
   * How often the gateway reports each project's accepted, rejected and dropped events to the
   * ingest-reports topic (read by the stats service's GET /v1/ingest/summary), ms; also once on stop.
   */
  INGEST_REPORT_INTERVAL_MS: positiveInt.default(10_000),
  /**
   * Default rate limit of each client key, requests per second (a token bucket; the project's
   * "rateLimits" in the catalog overrides it). Per key and per gateway instance.
   */
  RATE_LIMIT_CLIENT_PER_SECOND: positiveInt.default(100),
  /** Requests a client key may send at once after being idle (the bucket's size). */
  RATE_LIMIT_CLIENT_BURST: positiveInt.default(200),
  /** Default rate limit of each write key, requests per second; 0 = none (write keys are trusted servers). */
  RATE_LIMIT_WRITE_PER_SECOND: nonNegativeInt.default(0),
  /** Requests a write key may send at once after being idle, when RATE_LIMIT_WRITE_PER_SECOND > 0. */
  RATE_LIMIT_WRITE_BURST: positiveInt.default(2_000),
  ...clientLimitsEnvFields(GATEWAY_CLIENT_LIMITS),
});

/**
 * The gateway's environment: the common variables plus its own. Defaults are the limits
 * (1,000 events or 1 MiB per request, 30 days of backfill, 5 minutes of clock skew).
 */
export const gatewayEnvSchema = withHeadersWithinRequest(gatewayEnvFields);

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

/** The gateway's validated configuration; units are in the names. */
export interface GatewayConfig extends CommonConfig, ClientLimits {
  host: string;
  port: number;
  projectsFile: string;
  maxBatchEvents: number;
  maxBodyBytes: number;
  backfillMs: number;
  maxFutureMs: number;
  produceTimeoutMs: number;
  lingerMs: number;
  maxCoalescedEvents: number;
  maxCoalescedBytes: number;
  maxQueuedBytes: number;
  producerCount: number;
  producerThreads: boolean;
  ingestRetentionMs: number;
  retryAfterSeconds: number;
  shutdownGraceMs: number;
  /** Period of the per-project ingest outcome reports, ms. */
  ingestReportIntervalMs: number;
  /** Rate limits of keys whose project sets none; `undefined` = not limited. */
  defaultRateLimits: { client: RateLimitSetting; write: RateLimitSetting | undefined };
}

/** Maps a validated env to the config object. */
export function toGatewayConfig(env: GatewayEnv): GatewayConfig {
  return {
    ...toCommonConfig(env),
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    projectsFile: env.PROJECTS_FILE,
    maxBatchEvents: env.MAX_BATCH_EVENTS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    backfillMs: env.BACKFILL_DAYS * DAY_MS,
    maxFutureMs: env.MAX_FUTURE_MS,
    produceTimeoutMs: env.PRODUCE_TIMEOUT_MS,
    lingerMs: env.LINGER_MS,
    maxCoalescedEvents: env.MAX_COALESCED_EVENTS,
    maxCoalescedBytes: env.MAX_COALESCED_BYTES,
    maxQueuedBytes: env.MAX_QUEUED_BYTES,
    producerCount: env.PRODUCER_COUNT,
    producerThreads: env.PRODUCER_THREADS,
    ingestRetentionMs: env.INGEST_RETENTION_MS,
    retryAfterSeconds: env.RETRY_AFTER_SECONDS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    ingestReportIntervalMs: env.INGEST_REPORT_INTERVAL_MS,
    defaultRateLimits: {
      client: { perSecond: env.RATE_LIMIT_CLIENT_PER_SECOND, burst: env.RATE_LIMIT_CLIENT_BURST },
      write:
        env.RATE_LIMIT_WRITE_PER_SECOND > 0
          ? { perSecond: env.RATE_LIMIT_WRITE_PER_SECOND, burst: env.RATE_LIMIT_WRITE_BURST }
          : undefined,
    },
    ...toClientLimits(env),
  };
}

/** Loads and validates the gateway's configuration, failing with every bad variable named. */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
): GatewayConfig {
  return toGatewayConfig(loadEnv(gatewayEnvSchema, env));
}
