/**
 * The gateway's composition root: real Kafka, registry and catalog wired into buildGatewayApp.
 * main.ts runs it; integration tests and the benchmark start it in-process exactly the same way.
 *
 * Start-up never blocks on a dependency: topics and producers are set up, and the schema registered,
 * in the background with retries, while /readyz says what is still missing and ingest answers 503.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Admin } from 'kafkajs';
import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { ensureTopics, topicNames, topicSpecs } from '../../../shared/kafka/topics.ts';
import type { TopicNames } from '../../../shared/kafka/topics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { backoffDelayMs, fullDelay } from '../../../shared/retry/capped-backoff.ts';
import type { BackoffPolicy } from '../../../shared/retry/capped-backoff.ts';
import { buildGatewayApp } from './app.ts';
import type { GatewayConfig } from './config.ts';
import { IngestReportPublisher } from './ingest-reports/ingest-report-publisher.ts';
import { IngestOutcomeLedger } from './ingest-reports/outcome-ledger.ts';
import { createGatewayMetrics } from './metrics/gateway-metrics.ts';
import type { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { KafkaIngestProducer } from './transport/ingest-producer.ts';
import { createKafkaCheck } from './transport/kafka-check.ts';
import { SchemaRegistration } from './transport/schema-registration.ts';
import type { SchemaRegistrar } from './transport/schema-registration.ts';

/** Kafka not ready at start: retried after 250 ms doubling to 10 s, the full delay each time (no jitter). */
const KAFKA_START_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000 };

export interface RunningGateway {
  readonly app: FastifyInstance;
  readonly topics: TopicNames;
  readonly producer: KafkaIngestProducer;
  readonly schema: SchemaRegistration;
  readonly metrics: GatewayMetrics;
  /** Resolves when topics exist, producers are connected and the schema is registered. */
  whenReady(): Promise<void>;
  /**
   * Stops taking requests, answers those in flight, flushes to Kafka, reports the last outcomes, closes
   * clients; bounded by shutdownGraceMs.
   */
  close(): Promise<void>;
}

export interface GatewayOverrides {
  /** Instead of reading PROJECTS_FILE. */
  catalog?: ProjectCatalog;
  /** Instead of an AvroSchemaRegistry on SCHEMA_REGISTRY_URL. */
  registrar?: SchemaRegistrar;
}

/** Builds the running gateway (not listening yet: call `app.listen`). */
export async function createGateway(
  config: GatewayConfig,
  logger: Logger,
  overrides: GatewayOverrides = {},
): Promise<RunningGateway> {
  const catalog = overrides.catalog ?? loadProjectCatalog(config.projectsFile);
  const topics = topicNames(config.kafka.topicPrefix);
  const clientOverrides = {
    // Requests must fail within the produce timeout so a dead broker becomes a 503, not a hang.
    connectionTimeout: Math.min(3_000, config.produceTimeoutMs),
    requestTimeout: config.produceTimeoutMs,
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 1_000 },
  };
  const kafka = createKafka(config.kafka, 'liftstream-gateway', logger, clientOverrides);
  const metrics = createGatewayMetrics();
  const producer = new KafkaIngestProducer({
    mode: config.producerThreads
      ? { threads: true, kafka: config.kafka, clientOverrides, logLevel: config.logLevel }
      : { threads: false, kafka },
    topic: topics.ingest,
    lanes: config.producerCount,
    produceTimeoutMs: config.produceTimeoutMs,
    lingerMs: config.lingerMs,
    maxEvents: config.maxCoalescedEvents,
    maxBytes: config.maxCoalescedBytes,
    maxQueuedBytes: config.maxQueuedBytes,
    logger,
    observer: metrics.coalescerObserver,
  });
  metrics.watchCoalescer(() => producer.stats());
  const schema = new SchemaRegistration({
    registrar: overrides.registrar ?? new AvroSchemaRegistry(config.registryUrl),
    subject: `${topics.ingest}-value`,
    schema: readAvsc('ingest-event'),
    logger,
  });
  const admin: Admin = kafka.admin();
  // Random per process start, so a restarted gateway's seq (from 1 again) never collides with its past.
  const outcomes = new IngestOutcomeLedger(randomUUID());
  const reports = new IngestReportPublisher({
    ledger: outcomes,
    kafka,
    topic: topics.ingestReports,
    intervalMs: config.ingestReportIntervalMs,
    finalFlushTimeoutMs: config.produceTimeoutMs,
    logger,
    reports: metrics.ingestReports,
  });

  const app = await buildGatewayApp({
    config,
    catalog,
    producer,
    schema,
    kafkaCheck: createKafkaCheck({ producer, admin, topic: topics.ingest }),
    logger,
    metrics,
    outcomes,
  });

  let stopped = false;
  const kafkaReady = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await admin.connect();
        const created = await ensureTopics(admin, topicSpecs(config.kafka, config.ingestRetentionMs));
        if (created.length > 0) logger.info({ topics: created }, 'created topics');
        await producer.connect();
        logger.info({ topic: topics.ingest, producers: config.producerCount }, 'Kafka producers connected');
        return;
      } catch (err) {
        const delay = backoffDelayMs(attempt, KAFKA_START_BACKOFF, fullDelay);
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), attempt, retryInMs: delay },
          'Kafka not ready; retrying',
        );
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  })();
  schema.start();
  reports.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    topics,
    producer,
    schema,
    metrics,
    async whenReady() {
      await Promise.all([kafkaReady, schema.whenRegistered()]);
    },
    close() {
      closing ??= (async () => {
        stopped = true;
        const grace = new Promise<void>((resolve) => {
          setTimeout(() => {
            logger.warn({ graceMs: config.shutdownGraceMs }, 'shutdown grace period over; closing anyway');
            resolve();
          }, config.shutdownGraceMs).unref();
        });
        // Order matters: requests in flight wait for their acknowledgements, then the producer flushes,
        // then their outcomes, all counted by now, go out in a last report.
        await Promise.race([app.close(), grace]);
        await Promise.race([producer.close(), grace]);
        await Promise.race([reports.close(), grace]);
        schema.stop();
        await admin.disconnect().catch(() => undefined);
      })();
      return closing;
    },
  };
}
