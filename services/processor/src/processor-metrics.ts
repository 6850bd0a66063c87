import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type {
  CommittedChunk,
  RuntimeMetrics,
  TransactionResult,
} from '../../../shared/streams/runtime-metrics.ts';

/**
 * The processor's Prometheus metrics, on a registry of its own (two processors in one test
 * process must not share counters). Stage counters are published only when the transaction of
 * the chunk that produced them commits, so an aborted and retried chunk is counted once.
 */
export class ProcessorMetrics implements RuntimeMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter<'stage'>;
  readonly recordsInPlace: Counter<'stage'>;
  readonly recordsOut: Counter<'stage' | 'topic'>;
  /** Rows emitted with sign −1 (retractions), per row kind. */
  readonly corrections: Counter<'kind'>;
  /** Every counter the domain stages report (duplicates_dropped, merged, forwarded, ...). */
  readonly stageEvents: Counter<'stage' | 'counter'>;
  readonly duplicatesDropped: Counter;
  readonly transactions: Counter<'stage' | 'result'>;
  readonly transactionSeconds: Histogram<'stage'>;
  /** Freshness: age of ingest events when the identity stage's transaction that read them commits. */
  readonly eventAgeSeconds: Histogram;
  readonly evictions: Counter<'store'>;
  readonly restoreSeconds: Histogram;
  readonly restoredRecords: Counter;
  readonly consumerLagGauge: Gauge<'topic' | 'partition'>;
  readonly stateKeys: Gauge<'store'>;
  readonly stateDiskBytes: Gauge;

  /** `stateDiskBytes`: the size of the on-disk state file, null with STATE_STORE=memory. */
  constructor(stateSize: () => Record<string, number>, stateDiskBytes: () => number | null = () => null) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'liftstream_processor_' });
    this.recordsIn = new Counter({
      name: 'liftstream_processor_records_in_total',
      help: 'Input records processed (committed), per stage',
      labelNames: ['stage'],
      registers,
    });
    this.recordsInPlace = new Counter({
      name: 'liftstream_processor_records_in_place_total',
      help: 'Unit messages a stage sent that its own task processed in place (tasks per partition), not produced to the units topic',
      labelNames: ['stage'],
      registers,
    });
    this.recordsOut = new Counter({
      name: 'liftstream_processor_records_out_total',
      help: 'Records produced in committed transactions, per stage and topic kind (units, exposures, attributed, covariates, changelog)',
      labelNames: ['stage', 'topic'],
      registers,
    });
    this.corrections = new Counter({
      name: 'liftstream_processor_corrections_total',
      help: 'Rows emitted with sign -1 (retractions of earlier rows), per kind',
      labelNames: ['kind'],
      registers,
    });
    // Every kind exist from the start: rate() and alerts see 0 rather than no series.
    for (const kind of ['exposure', 'attributed', 'covariate']) this.corrections.inc({ kind }, 0);
    this.stageEvents = new Counter({
      name: 'liftstream_processor_stage_events_total',
      help: 'Domain stage counters (duplicates_dropped, aliases_applied, merged, forwarded, ...)',
      labelNames: ['stage', 'counter'],
      registers,
    });
    this.duplicatesDropped = new Counter({
      name: 'liftstream_processor_duplicates_dropped_total',
      help: 'Events dropped because their message_id was already accepted',
      registers,
    });
    this.transactions = new Counter({
      name: 'liftstream_processor_transactions_total',
      help: 'Transactions per outcome: commit, abort, fenced, unknown (commit outcome settled afterwards)',
      labelNames: ['stage', 'result'],
      registers,
    });
    this.transactionSeconds = new Histogram({
      name: 'liftstream_processor_transaction_seconds',
      help: 'Duration of one chunk: processing plus its transaction',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.eventAgeSeconds = new Histogram({
      name: 'liftstream_processor_event_age_seconds',
      help: "Age of ingest events when the transaction that consumed them (identity stage) committed: commit time − the gateway's received_at",
      // From "keeping up" (tens of ms) to a backlog of an hour; anything older lands in +Inf.
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.evictions = new Counter({
      name: 'liftstream_processor_evictions_total',
      help: 'Items dropped by retention: tracks (units store) and message ids (identity store)',
      labelNames: ['store'],
      registers,
    });
    this.restoreSeconds = new Histogram({
      name: 'liftstream_processor_restore_seconds',
      help: 'Duration of one state restore from the changelogs (all tasks of an assignment)',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.restoredRecords = new Counter({
      name: 'liftstream_processor_restored_records_total',
      help: 'Changelog records applied while restoring',
      registers,
    });
    this.consumerLagGauge = new Gauge({
      name: 'liftstream_processor_consumer_lag',
      help: 'Records between the last fetched batch and the high watermark, per input partition',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.stateKeys = new Gauge({
      name: 'liftstream_processor_state_keys',
      help: 'Keys in the state stores of this instance: units, identities',
      labelNames: ['store'],
      registers,
      collect() {
        const sizes = stateSize();
        this.set({ store: 'units' }, sizes.units ?? 0);
        this.set({ store: 'identity' }, sizes.identity ?? 0);
      },
    });
    this.stateDiskBytes = new Gauge({
      name: 'liftstream_processor_state_disk_bytes',
      help: 'Size of the on-disk state file (STATE_STORE=disk; absent with memory): grows with the keys in the retention window',
      registers,
      collect() {
        const bytes = stateDiskBytes();
        if (bytes !== null) this.set(bytes);
      },
    });
  }

  /**
   * Observes the age of each event of a committed chunk, `receivedAt` in unix ms, at `nowMs`. A
   * negative age (the gateway's clock ahead of this host's) counts as 0. About 0.1 µs per event.
   */
  observeEventAges(receivedAt: readonly number[], nowMs: number): void {
    for (const at of receivedAt) this.eventAgeSeconds.observe(Math.max(0, nowMs - at) / 1000);
  }

  transactionEnded(stage: string, result: TransactionResult, seconds?: number): void {
    this.transactions.inc({ stage, result });
    if (seconds !== undefined) this.transactionSeconds.observe({ stage }, seconds);
  }

  chunkCommitted(stage: string, chunk: CommittedChunk): void {
    this.recordsIn.inc({ stage }, chunk.recordsIn);
    this.recordsInPlace.inc({ stage }, chunk.recordsInPlace);
    for (const [counter, n] of chunk.counters) {
      this.stageEvents.inc({ stage, counter }, n);
      if (counter === 'duplicates_dropped') this.duplicatesDropped.inc(n);
      if (counter === 'exposure_retracted') this.corrections.inc({ kind: 'exposure' }, n);
      if (counter === 'attributed_retracted') this.corrections.inc({ kind: 'attributed' }, n);
      if (counter === 'covariate_retracted') this.corrections.inc({ kind: 'covariate' }, n);
    }
    // Wall clock: received_at is the gateway's wall clock.
    this.observeEventAges(chunk.receivedAt, Date.now());
    for (const [topic, n] of chunk.recordsOut) this.recordsOut.inc({ stage, topic }, n);
  }

  evicted(store: string, items: number): void {
    this.evictions.inc({ store }, items);
  }

  consumerLag(topic: string, partition: number, lag: number | null): void {
    if (lag === null) this.consumerLagGauge.remove({ topic, partition: String(partition) });
    else this.consumerLagGauge.set({ topic, partition: String(partition) }, lag);
  }

  restored(seconds: number, records: number): void {
    this.restoreSeconds.observe(seconds);
    this.restoredRecords.inc(records);
  }
}
