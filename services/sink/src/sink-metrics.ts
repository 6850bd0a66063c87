/**
 * The sink's Prometheus metrics, registered on the registry of the process that hosts it (the stats
 * service). Re-registering on the same registry reuses the existing metrics, so a sink restarted in one
 * process keeps counting. Label values are bounded: the sink's tables, the topics' partitions, fixed reasons.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { SINK_TABLES } from './sink-rows.ts';

export interface SinkMetrics {
  /** Rows written to ClickHouse, per table (after exactly-once filtering). */
  readonly rowsInserted: Counter<'table'>;
  /** Duration of successful inserts, per table. */
  readonly insertSeconds: Histogram<'table'>;
  /** Failed insert attempts (each retried), per table. */
  readonly insertFailures: Counter<'table'>;
  /** Records not inserted, per table and reason: `already_stored` (exactly-once) or `invalid` (bad record). */
  readonly recordsSkipped: Counter<'table' | 'reason'>;
  /** Records in Kafka not yet in ClickHouse, per topic and partition (high watermark − next offset to store). */
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  /** Current retry delay of a failing insert, seconds; 0 when inserts succeed. */
  readonly backoffSeconds: Gauge<'table'>;
  /**
   * Freshness: age of records when their rows are stored, per table: insert time − the record's Kafka
   * timestamp (when the processor produced it), seconds.
   */
  readonly recordAgeSeconds: Histogram<'table'>;
  /** Unix seconds of the last error (insert, decode, start-up); 0 if none. */
  readonly lastErrorTime: Gauge;
  /**
   * Insert rounds (insert-rounds.ts) by their pacing (flush-decision.ts): `fetched` (interval mode),
   * `idle` and `large` (the next fetch at once), `paced` (the next fetch held until the next token).
   */
  readonly insertRounds: Counter<'pacing'>;
  /** Fetched batches stored by insert rounds (÷ rounds: batches per round). */
  readonly roundBatches: Counter;
  /** Consumers the sink restarted after a crash kafkajs does not restart by itself. */
  readonly consumerRestarts: Counter;
}

/** Every table the sink inserts into: their failure and backoff series exist (at 0) from the start. */
const TABLES = [...SINK_TABLES, 'variation_metrics'] as const;

export function createSinkMetrics(registry: Registry): SinkMetrics {
  const registers = [registry];
  const zeroPerTable = <M extends Counter<'table'> | Gauge<'table'>>(metric: M): M => {
    for (const table of TABLES) metric.inc({ table }, 0);
    return metric;
  };
  const reuse = <M>(name: string, make: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? make();
  return {
    rowsInserted: reuse(
      'liftstream_sink_rows_inserted_total',
      () =>
        new Counter({
          name: 'liftstream_sink_rows_inserted_total',
          help: 'Rows written to ClickHouse, per table',
          labelNames: ['table'] as const,
          registers,
        }),
    ),
    insertSeconds: reuse(
      'liftstream_sink_insert_duration_seconds',
      () =>
        new Histogram({
          name: 'liftstream_sink_insert_duration_seconds',
          help: 'Duration of successful ClickHouse inserts, per table',
          labelNames: ['table'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    insertFailures: reuse('liftstream_sink_insert_failures_total', () =>
      zeroPerTable(
        new Counter({
          name: 'liftstream_sink_insert_failures_total',
          help: 'Failed ClickHouse insert attempts (retried with backoff), per table',
          labelNames: ['table'] as const,
          registers,
        }),
      ),
    ),
    recordsSkipped: reuse(
      'liftstream_sink_records_skipped_total',
      () =>
        new Counter({
          name: 'liftstream_sink_records_skipped_total',
          help: 'Records not inserted: already_stored (exactly-once replay) or invalid (undecodable, wrong shape)',
          labelNames: ['table', 'reason'] as const,
          registers,
        }),
    ),
    consumerLag: reuse(
      'liftstream_sink_consumer_lag',
      () =>
        new Gauge({
          name: 'liftstream_sink_consumer_lag',
          help: 'Records in Kafka not yet stored in ClickHouse, per topic and partition',
          labelNames: ['topic', 'partition'] as const,
          registers,
        }),
    ),
    backoffSeconds: reuse('liftstream_sink_backoff_seconds', () =>
      zeroPerTable(
        new Gauge({
          name: 'liftstream_sink_backoff_seconds',
          help: 'Current retry delay of a failing ClickHouse insert, per table; 0 when inserts succeed',
          labelNames: ['table'] as const,
          registers,
        }),
      ),
    ),
    recordAgeSeconds: reuse(
      'liftstream_sink_record_age_seconds',
      () =>
        new Histogram({
          name: 'liftstream_sink_record_age_seconds',
          help: "Age of records when their rows are stored in ClickHouse, per table: insert time − the record's Kafka timestamp (the processor's produce time)",
          labelNames: ['table'] as const,
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
          registers,
        }),
    ),
    insertRounds: reuse(
      'liftstream_sink_insert_rounds_total',
      () =>
        new Counter({
          name: 'liftstream_sink_insert_rounds_total',
          help: "Insert rounds (one insert per table for the batches handled at once), by pacing: fetched (interval mode), large (next fetch at once), paced (next fetch held by the round's insert time, SINK_INSERT_SHARE), capped (held until an interval after the round began)",
          labelNames: ['pacing'] as const,
          registers,
        }),
    ),
    consumerRestarts: reuse(
      'liftstream_sink_consumer_restarts_total',
      () =>
        new Counter({
          name: 'liftstream_sink_consumer_restarts_total',
          help: 'Consumers the sink restarted after a crash kafkajs does not restart by itself (an error it does not class as retriable)',
          registers,
        }),
    ),
    roundBatches: reuse(
      'liftstream_sink_round_batches_total',
      () =>
        new Counter({
          name: 'liftstream_sink_round_batches_total',
          help: 'Fetched batches stored by insert rounds (divided by the rounds: batches per round)',
          registers,
        }),
    ),
    lastErrorTime: reuse(
      'liftstream_sink_last_error_timestamp_seconds',
      () =>
        new Gauge({
          name: 'liftstream_sink_last_error_timestamp_seconds',
          help: 'Unix time of the last sink error (insert, decode, start-up); 0 if none',
          registers,
        }),
    ),
  };
}
