/**
 * Every INGEST_REPORT_INTERVAL_MS, and once more on a graceful stop, produces the ledger's due reports
 * (one JSON record per project with something counted) to `<prefix>ingest-reports`, key `<project>`,
 * acks=all, and acknowledges them in the ledger only once Kafka did.
 *
 * Off the request path: the routes only add to the in-memory ledger, and a failing produce (Kafka down,
 * the topic not created yet) is logged and counted and leaves the reports for the next round, so it never
 * blocks or fails ingest. One round at a time: a round still waiting for Kafka makes the next tick a no-op.
 *
 * Its own plain producer on the main thread (not an ingest lane): a few records every few seconds need no
 * coalescing, and not idempotent since a duplicate is harmless: the reader keeps one row per
 * (gateway_id, seq).
 */
import { Partitioners } from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { IngestOutcomeLedger } from './outcome-ledger.ts';

export interface IngestReportPublisherOptions {
  ledger: IngestOutcomeLedger;
  kafka: Kafka;
  /** `<prefix>ingest-reports`; created with the other topics (ensureTopics), never auto-created here. */
  topic: string;
  /** INGEST_REPORT_INTERVAL_MS. */
  intervalMs: number;
  /** Longest a stop waits for the last reports to be acknowledged, ms (PRODUCE_TIMEOUT_MS). */
  finalFlushTimeoutMs: number;
  logger: Logger;
  /** liftstream_gateway_ingest_reports_total{outcome}: reports acknowledged (`sent`) or not (`failed`). */
  reports: Counter<'outcome'>;
  /** Clock of window_end, unix ms (Date.now). */
  now?: () => number;
}

/** Failed rounds in a row between two warnings: one a minute at the default interval. */
const WARN_EVERY_FAILURES = 6;
/** Rounds a stop tries at most: one to resend a waiting report, one for the counts since. */
const FINAL_ROUNDS = 2;

export class IngestReportPublisher {
  private readonly logger: Logger;
  private readonly now: () => number;
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<boolean> | undefined;
  private failuresInARow = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: IngestReportPublisherOptions) {
    this.logger = opts.logger.child({ component: 'ingest-reports' });
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => void this.publish(), this.opts.intervalMs);
    this.timer.unref();
  }

  /**
   * One round: produce what is due and acknowledge it. Resolves true when nothing is left unacknowledged
   * by this round; never rejects. While a round is in flight, returns that round.
   */
  publish(): Promise<boolean> {
    this.round ??= this.publishRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Graceful: stops the timer, waits for the round in flight, then reports what was counted since. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.opts.finalFlushTimeoutMs);
      });
      const flush = async (): Promise<void> => {
        await this.round;
        for (let i = 0; i < FINAL_ROUNDS && !this.opts.ledger.isEmpty(); i++) {
          if (!(await this.publish())) break;
        }
      };
      // A broker that is down must not hold the stop for kafkajs's whole connect-and-retry sequence.
      await Promise.race([flush(), timeout]);
      clearTimeout(timer);
      if (!this.opts.ledger.isEmpty()) {
        this.logger.warn(
          { events: this.opts.ledger.unreportedEvents(), topic: this.opts.topic },
          'stopping with ingest outcomes not reported (Kafka did not acknowledge the last reports)',
        );
      }
      await this.producer?.disconnect().catch(() => undefined);
      this.producer = undefined;
    })();
    return this.closing;
  }

  private async publishRound(): Promise<boolean> {
    const reports = this.opts.ledger.due(this.now());
    if (reports.length === 0) return true;
    try {
      const producer = await this.connected();
      await producer.send({
        topic: this.opts.topic,
        acks: -1,
        messages: reports.map((r) => ({ key: r.project, value: JSON.stringify(r) })),
      });
    } catch (err) {
      this.opts.reports.inc({ outcome: 'failed' }, reports.length);
      if (this.failuresInARow++ % WARN_EVERY_FAILURES === 0) {
        this.logger.warn(
          {
            err: err instanceof Error ? err.message : String(err),
            reports: reports.length,
            failuresInARow: this.failuresInARow,
            retryInMs: this.opts.intervalMs,
          },
          'ingest reports not acknowledged; kept for the next round',
        );
      }
      return false;
    }
    this.opts.ledger.acknowledge(reports);
    this.opts.reports.inc({ outcome: 'sent' }, reports.length);
    if (this.failuresInARow > 0) {
      this.logger.info({ afterFailures: this.failuresInARow }, 'ingest reports acknowledged again');
      this.failuresInARow = 0;
    }
    return true;
  }

  private async connected(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    const producer = this.opts.kafka.producer({
      allowAutoTopicCreation: false,
      // kafkajs's Java-compatible murmur2, named so kafkajs does not warn about its default.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    this.producer = producer;
    return producer;
  }
}
