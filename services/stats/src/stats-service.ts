/**
 * Wires the stats process: ClickHouse (embedded chDB or a server) migrated, the project catalog, the
 * hosted sink when enabled, and the HTTP app. The sink and the API share this process because embedded
 * chDB allows one data directory per process. They do not share its connection: chDB runs one statement
 * at a time per connection, so with one the sink's inserts and the API's queries waited for each other
 * (issue 19: under load the connection was busy ~80% of the time and a call queued 35 ms at the median,
 * 500 ms at p99, bench/RESULTS.md). The sink gets a connection of its own to the same data directory;
 * statements on different connections run in parallel and see each other's committed parts at once.
 * (chdb-node still runs statements with bound parameters one at a time process-wide, to work around a race
 * in libchdb; the sink's inserts have none.)
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { createClickHouse } from '../../../shared/clickhouse/clickhouse-client.ts';
import { migrate } from '../../../shared/clickhouse/migrations.ts';
import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import { resolveAlertSecrets } from '../../../shared/projects/alert-settings.ts';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { backfillVariationMetricsIfMissing, startSink } from '../../sink/src/index.ts';
import type { SinkHandle } from '../../sink/src/index.ts';
import { startAlerting } from './alerts/alerting.ts';
import type { AlertingPolicy } from './alerts/alerting.ts';
import { buildStatsApp } from './app.ts';
import { FreshnessTracker } from './freshness/freshness-tracker.ts';
import { newestCountedEvents } from './storage/newest-event-query.ts';
import { startIngestReportConsumer } from './ingest-reports/ingest-report-consumer.ts';
import type { StatsConfig } from './config.ts';
import { registerSrmAlarmGauge } from './metrics/srm-alarm-gauge.ts';
import { createStatsMetrics } from './stats-metrics.ts';
import { listExperiments } from './storage/experiments-query.ts';
import { registerClickHouseMemoryGauge } from './storage/clickhouse-memory-gauge.ts';
import { registerClickHousePartsGauge } from './storage/clickhouse-parts-gauge.ts';

export interface StatsService {
  app: FastifyInstance;
  clickhouse: ClickHouseClient;
  sink: SinkHandle | undefined;
  /**
   * Graceful: stop taking requests and answer those in flight, stop the sink and the ingest report consumer
   * (uncommitted work is re-read next time), stop the alerting (deliveries not sent yet are abandoned; the alerts are stored), close ClickHouse.
   */
  close(): Promise<void>;
}

export async function createStatsService(
  config: StatsConfig,
  logger: Logger,
  /** Called when the hosted sink meets a fault it cannot heal (embedded ClickHouse's disk refuses writes). */
  onFatal: (reason: string) => void = () => undefined,
  /** Where alert secrets are read (process.env by default), and the alerting's timings (tests). */
  options: { env?: Record<string, string | undefined>; alerting?: AlertingPolicy } = {},
): Promise<StatsService> {
  const catalog = loadProjectCatalog(config.projectsFile);
  // Alerts are detected from the hosted sink's inserts, so the process hosting it alerts. A secret named in
  // PROJECTS_FILE but missing from the environment stops the start here, before anything runs.
  const webhooks = config.sinkEnabled ? resolveAlertSecrets(catalog.projects(), options.env) : [];
  if (!config.sinkEnabled && catalog.projects().some((p) => p.alerts !== undefined)) {
    logger.info(
      'SINK_ENABLED=false: alerts are detected by the stats process that hosts the sink, not this one',
    );
  }
  const clickhouse = await createClickHouse(config.clickhouse);
  const applied = await migrate(clickhouse);
  if (applied.length > 0) logger.info({ applied }, 'ClickHouse migrations applied');
  // Before the sink starts: a database that had attributed rows before variation_metrics existed.
  if (await backfillVariationMetricsIfMissing(clickhouse)) {
    logger.warn('variation_metrics was empty while attributed was not: rebuilt it from attributed');
  }
  const metrics = createStatsMetrics();
  registerClickHouseMemoryGauge(metrics.registry, clickhouse);
  registerClickHousePartsGauge(metrics.registry, clickhouse);
  registerSrmAlarmGauge({
    registry: metrics.registry,
    catalog,
    listExperiments: (project) => listExperiments(clickhouse, project),
    logger,
  });
  const alerting =
    webhooks.length === 0
      ? undefined
      : startAlerting({
          catalog,
          webhooks,
          clickhouse,
          logger,
          registry: metrics.registry,
          ...(options.alerting === undefined ? {} : { policy: options.alerting }),
        });
  // Freshness kept from this process's sink inserts; read and reused for 2 s when the sink runs elsewhere.
  const freshness = new FreshnessTracker({
    load: (project, experiment) => newestCountedEvents(clickhouse, { project, experiment }),
    maintained: config.sinkEnabled,
  });
  // A server runs concurrent requests of one client in parallel already; only embedded chDB needs a second one.
  const sinkClickHouse =
    config.sinkEnabled && config.sink.embeddedClickHouse
      ? await createClickHouse(config.clickhouse)
      : undefined;
  const sink = config.sinkEnabled
    ? startSink({
        config: config.sink,
        kafka: createKafka(config.kafka, 'liftstream-stats-sink', logger),
        registry: new AvroSchemaRegistry(config.registryUrl),
        clickhouse: sinkClickHouse ?? clickhouse,
        ownClickHouseSession: sinkClickHouse !== undefined,
        logger,
        metrics: metrics.registry,
        onFatal,
        onCommitted: (changes) => {
          freshness.committed(changes);
          alerting?.committed(changes);
        },
      })
    : undefined;
  // The gateways' ingest outcome reports, stored by the same process that writes the sink's tables.
  const ingestReports = config.sinkEnabled
    ? startIngestReportConsumer({
        kafka: createKafka(config.kafka, 'liftstream-stats-ingest-reports', logger),
        clickhouse,
        topic: topicNames(config.kafka.topicPrefix).ingestReports,
        groupId: `${config.sink.groupId}-ingest-reports`,
        sessionTimeoutMs: config.sink.sessionTimeoutMs,
        retry: config.sink.retry,
        logger,
        registry: metrics.registry,
      })
    : undefined;
  const app = await buildStatsApp({
    config,
    catalog,
    clickhouse,
    logger,
    metrics,
    freshness,
    ...(sink === undefined ? {} : { sinkStatus: () => sink.status() }),
  });
  let closed: Promise<void> | undefined;
  return {
    app,
    clickhouse,
    sink,
    close() {
      closed ??= (async () => {
        const grace = setTimeout(
          () => logger.warn('requests still in flight after the grace period'),
          config.shutdownGraceMs,
        );
        grace.unref();
        await app.close();
        clearTimeout(grace);
        await sink?.stop();
        await ingestReports?.stop();
        await alerting?.stop();
        await sinkClickHouse?.close();
        await clickhouse.close();
      })();
      return closed;
    },
  };
}
