/**
 * `<prefix>ingest-reports` → ClickHouse `ingest_reports`: the gateways' per-project outcome counts, stored for
 * GET /v1/ingest/summary. Hosted by the stats process that hosts the sink (it writes this ClickHouse).
 *
 * At least once, and each report counted once: a batch's rows are inserted, and only then its offsets
 * resolved and committed, so a crash or rebalance in between re-reads records whose rows are already in;
 * the table keeps one row per (project, gateway_id, seq) and readers use FINAL. That also absorbs a report
 * the gateway resent after a lost acknowledgement.
 *
 * A record that is not a valid report is logged, counted (`invalid`) and skipped, never retried. ClickHouse
 * refusing the insert is retried with capped backoff, heartbeating so the group keeps the partition, and
 * nothing is committed meanwhile. Kafka down or the topic missing at start (the gateway or the processor
 * creates it): start-up waits and retries until it works or stop() is called.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { backoffDelayMs } from '../../../../shared/retry/capped-backoff.ts';
import type { BackoffPolicy } from '../../../../shared/retry/capped-backoff.ts';
import { startWithBackoff } from '../../../../shared/retry/start-with-backoff.ts';
import { waitWithHeartbeat } from '../../../../shared/retry/wait-with-heartbeat.ts';
import { createIngestReportMetrics } from './ingest-report-metrics.ts';
import type { IngestReportMetrics } from './ingest-report-metrics.ts';
import { toIngestReportRow } from './ingest-report-rows.ts';
import type { IngestReportRow } from './ingest-report-rows.ts';
import { insertIngestReports } from './ingest-reports-store.ts';

export interface IngestReportConsumerOptions {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  /** `<prefix>ingest-reports`. */
  topic: string;
  /** Its own consumer group, never shared with the sink's. */
  groupId: string;
  /** Group session timeout, ms (the sink's SINK_SESSION_TIMEOUT_MS). */
  sessionTimeoutMs: number;
  /** Backoff of retried inserts and start-up attempts (the sink's). */
  retry: BackoffPolicy;
  logger: Logger;
  /** The hosting process's Prometheus registry. */
  registry: Registry;
}

export interface IngestReportConsumerHandle {
  /** Graceful: the batch in progress finishes (or its retry is abandoned, uncommitted), then the group is left. */
  stop(): Promise<void>;
}

/** Starts consuming in the background (waiting for Kafka and the topic if needed) and returns at once. */
export function startIngestReportConsumer(opts: IngestReportConsumerOptions): IngestReportConsumerHandle {
  const consumer = new IngestReportConsumer(opts);
  consumer.start();
  return { stop: () => consumer.stop() };
}

/** Failed inserts in a row between two warnings. */
const WARN_EVERY_FAILURES = 10;

class Stopped extends Error {}

class IngestReportConsumer {
  private readonly logger: Logger;
  private readonly metrics: IngestReportMetrics;
  private stopping = false;
  private startup: Promise<void> = Promise.resolve();
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private stopped: Promise<void> | undefined;

  constructor(private readonly opts: IngestReportConsumerOptions) {
    this.logger = opts.logger.child({ component: 'ingest-report-consumer' });
    this.metrics = createIngestReportMetrics(opts.registry);
  }

  start(): void {
    this.startup = this.connectWithRetry();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      await this.startup.catch(() => undefined);
      await this.disconnect();
      this.logger.info('ingest report consumer stopped');
    })();
    return this.stopped;
  }

  private async connectWithRetry(): Promise<void> {
    const started = await startWithBackoff({
      start: () => this.connect(),
      stopped: () => this.stopping,
      isStop: (err) => err instanceof Stopped,
      policy: this.opts.retry,
      onFailure: async (err, attempt, retryInMs) => {
        await this.disconnect();
        this.logger.warn(
          { err: message(err), attempt, retryInMs },
          'ingest report consumer start failed; retrying',
        );
      },
    });
    if (started) {
      this.logger.info({ topic: this.opts.topic, groupId: this.opts.groupId }, 'consuming ingest reports');
    }
  }

  private async connect(): Promise<void> {
    const admin = this.opts.kafka.admin();
    this.admin = admin;
    await admin.connect();
    await this.waitForTopic(admin);
    await admin.disconnect();
    this.admin = null;
    const consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: this.opts.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.opts.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        this.logger.warn({ err: message(payload.error) }, 'consumer crashed; kafkajs restarts it');
      } else if (!this.stopping) {
        this.logger.error({ err: message(payload.error) }, 'consumer crashed and will not restart');
      }
    });
    await consumer.connect();
    // From the beginning for a new group: reports still in the topic are stored, duplicates collapse.
    await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** The gateway (or the processor) creates the topic with its settings; this waits rather than guess them. */
  private async waitForTopic(admin: Admin): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Stopped();
      if ((await admin.listTopics()).includes(this.opts.topic)) return;
      if (attempt === 1 || attempt % 60 === 0) {
        this.logger.info({ topic: this.opts.topic }, 'waiting for the gateway to create the topic');
      }
      await waitWithHeartbeat(
        1_000,
        async () => undefined,
        () => !this.stopping,
        250,
      );
    }
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const rows: IngestReportRow[] = [];
    let invalid = 0;
    for (const m of batch.messages) {
      const read = toIngestReportRow(m.value);
      if (read.ok) {
        rows.push(read.row);
      } else {
        invalid++;
        this.logger.warn(
          { topic: batch.topic, partition: batch.partition, offset: m.offset, reason: read.reason },
          'skipping a malformed ingest report',
        );
      }
    }
    const current = () => !this.stopping && payload.isRunning() && !payload.isStale();
    if (!(await this.insertWithRetry(rows, payload.heartbeat, current))) return;
    // Only now: a crash before this line re-reads the batch, whose rows then replace themselves.
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    this.metrics.records.inc({ outcome: 'stored' }, rows.length);
    if (invalid > 0) this.metrics.records.inc({ outcome: 'invalid' }, invalid);
  }

  /** Inserts until it works; false when stopped or the partition was taken away meanwhile. */
  private async insertWithRetry(
    rows: readonly IngestReportRow[],
    heartbeat: () => Promise<void>,
    current: () => boolean,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (!current()) return false;
      try {
        await insertIngestReports(this.opts.clickhouse, rows);
        return true;
      } catch (err) {
        this.metrics.insertFailures.inc();
        const delay = backoffDelayMs(attempt, this.opts.retry);
        if ((attempt - 1) % WARN_EVERY_FAILURES === 0) {
          this.logger.warn(
            { err: message(err), rows: rows.length, attempt, retryInMs: delay },
            'ingest report insert failed; retrying',
          );
        }
        if (!(await waitWithHeartbeat(delay, heartbeat, current))) return false;
      }
    }
  }

  private async disconnect(): Promise<void> {
    await this.consumer?.disconnect().catch((err: unknown) => {
      this.logger.warn({ err: message(err) }, 'consumer disconnect failed');
    });
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.admin = null;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
