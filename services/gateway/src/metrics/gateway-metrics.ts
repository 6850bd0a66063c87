/**
 * The gateway's Prometheus metrics, on a registry of its own (several apps can live in one test
 * process). Label values are bounded: routes are route patterns, codes come from the catalogues.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createClientLimitMetrics } from '../../../../shared/http/client-limits.ts';
import type { ClientLimitMetrics } from '../../../../shared/http/client-limits.ts';
import type {
  CoalescerObserver,
  CoalescerStats,
  ProduceFailureReason,
} from '../transport/batch-coalescer.ts';

const PRODUCE_FAILURE_REASONS = [
  'timeout',
  'send_failed',
  'overloaded',
  'closed',
] as const satisfies readonly ProduceFailureReason[];

export interface GatewayMetrics extends ClientLimitMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  /**
   * Per event: outcome accepted | rejected | dropped, code the rejection code or drop reason ('' if
   * accepted). No project label: /metrics answers without a key and names no project (per-project
   * figures are behind read keys).
   */
  readonly events: Counter<'outcome' | 'code'>;
  readonly warnings: Counter<'code'>;
  /** Track event names without a definition seen for the first time by this process. */
  readonly discoveredEventNames: Counter;
  readonly produceDuration: Histogram<'outcome'>;
  readonly produceBatchRecords: Histogram;
  readonly produceBatchBytes: Histogram;
  /** Requests refused with 429 by their key's rate limit, by the key's role (no project: see events). */
  readonly rateLimited: Counter<'role'>;
  /** Requests refused or timed out before or while waiting for Kafka, by reason. */
  readonly produceFailures: Counter<'reason'>;
  /** Per-project outcome reports to `<prefix>ingest-reports`: `sent` (acknowledged) or `failed` (kept, resent). */
  readonly ingestReports: Counter<'outcome'>;
  /** Hooks for the coalescer: send sizes, durations, failures. */
  readonly coalescerObserver: CoalescerObserver;
  /** Makes the queue/in-flight gauges read the coalescer when scraped. */
  watchCoalescer(stats: () => CoalescerStats): void;
}

/**
 * Latency buckets, s: fine below 100 ms, where the gateway's latency target lies (p99 < 50 ms), so the
 * histograms can tell 30 ms from 45 ms.
 */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5,
  10,
];

/** Builds the metrics; `defaults` adds Node's process metrics (RSS, event loop lag, GC). */
export function createGatewayMetrics(opts: { defaults?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'liftstream_gateway_' });
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'liftstream_gateway_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'liftstream_gateway_http_request_duration_seconds',
    help: 'Time from request to answer, by route pattern',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const events = new Counter({
    name: 'liftstream_gateway_events_total',
    help: 'Events received, by outcome (accepted, rejected, dropped) and rejection code or drop reason',
    labelNames: ['outcome', 'code'] as const,
    registers,
  });
  const warnings = new Counter({
    name: 'liftstream_gateway_event_warnings_total',
    help: 'Warnings reported on accepted events, by code',
    labelNames: ['code'] as const,
    registers,
  });
  const discoveredEventNames = new Counter({
    name: 'liftstream_gateway_discovered_event_names_total',
    help: 'Track event names without a definition, first seen by this process',
    registers,
  });
  const rateLimited = new Counter({
    name: 'liftstream_gateway_rate_limited_total',
    help: "Requests refused with 429 by their key's rate limit, by the key's role (client, write)",
    labelNames: ['role'] as const,
    registers,
  });
  const produceDuration = new Histogram({
    name: 'liftstream_gateway_produce_duration_seconds',
    help: 'Duration of one produce request (one coalesced batch) until acks=all, by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const produceWait = new Histogram({
    name: 'liftstream_gateway_produce_wait_seconds',
    help: "Time a request's records waited before their produce request started: the linger plus any wait for a free producer",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const produceBatchRecords = new Histogram({
    name: 'liftstream_gateway_produce_batch_records',
    help: 'Records per produce request (records of concurrent HTTP requests coalesced)',
    buckets: [1, 10, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers,
  });
  const produceBatchBytes = new Histogram({
    name: 'liftstream_gateway_produce_batch_bytes',
    help: 'Estimated bytes per produce request',
    buckets: [1e3, 1e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2e6],
    registers,
  });
  const produceFailures = new Counter({
    name: 'liftstream_gateway_produce_failures_total',
    help: 'Requests whose records were not acknowledged, by reason (timeout, send_failed, overloaded, closed)',
    labelNames: ['reason'] as const,
    registers,
  });
  // Every reason exists from the start: rate() and alerts see 0 rather than no series.
  for (const reason of PRODUCE_FAILURE_REASONS) produceFailures.inc({ reason }, 0);
  const ingestReports = new Counter({
    name: 'liftstream_gateway_ingest_reports_total',
    help: 'Per-project outcome reports produced to the ingest-reports topic, by outcome (sent: acknowledged; failed: kept for the next round)',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of ['sent', 'failed']) ingestReports.inc({ outcome }, 0);
  // liftstream_gateway_http_client_errors_total, liftstream_gateway_http_connections_dropped_total
  const clientLimitMetrics = createClientLimitMetrics('liftstream_gateway_', registers);

  let coalescerStats: (() => CoalescerStats) | undefined;
  const read = (pick: (s: CoalescerStats) => number) =>
    function (this: Gauge) {
      if (coalescerStats) this.set(pick(coalescerStats()));
    };
  new Gauge({
    name: 'liftstream_gateway_produce_in_flight_records',
    help: 'Records in produce requests waiting for acknowledgement',
    registers,
    collect: read((s) => s.recordsInFlight),
  });
  new Gauge({
    name: 'liftstream_gateway_produce_in_flight_requests',
    help: 'Produce requests waiting for acknowledgement (at most one per producer)',
    registers,
    collect: read((s) => s.sendsInFlight),
  });
  new Gauge({
    name: 'liftstream_gateway_produce_queued_records',
    help: 'Records waiting for a free producer',
    registers,
    collect: read((s) => s.queuedRecords),
  });

  const coalescerObserver: CoalescerObserver = {
    onSendStart(info) {
      produceBatchRecords.observe(info.records);
      produceBatchBytes.observe(info.bytes);
    },
    onSubmissionSent(waitedMs) {
      produceWait.observe(waitedMs / 1000);
    },
    onSendEnd(info, durationMs, error) {
      produceDuration.observe({ outcome: error === undefined ? 'ok' : 'error' }, durationMs / 1000);
      if (error !== undefined) produceFailures.inc({ reason: 'send_failed' }, info.submissions);
    },
    onReject(reason) {
      produceFailures.inc({ reason });
    },
  };

  return {
    registry,
    httpRequests,
    httpDuration,
    events,
    warnings,
    discoveredEventNames,
    rateLimited,
    produceDuration,
    produceBatchRecords,
    produceBatchBytes,
    produceFailures,
    ingestReports,
    ...clientLimitMetrics,
    coalescerObserver,
    watchCoalescer(stats) {
      coalescerStats = stats;
    },
  };
}
