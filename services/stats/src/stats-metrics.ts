/**
 * The stats process's Prometheus metrics, on a registry of its own (several apps can live in one test
 * process). The hosted sink adds its own (`liftstream_sink_*`) to the same registry.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { createClientLimitMetrics } from '../../../shared/http/client-limits.ts';
import type { ClientLimitMetrics } from '../../../shared/http/client-limits.ts';

export interface StatsMetrics extends ClientLimitMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  /**
   * ClickHouse time of a results request, by path: incremental (maintained sums), per-unit (time window),
   * joined (the tables disagreed), or the 404/503 outcome.
   */
  readonly resultsQuerySeconds: Histogram<'path'>;
}

export function createStatsMetrics(opts: { defaults?: boolean } = {}): StatsMetrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'liftstream_stats_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'liftstream_stats_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'liftstream_stats_http_request_duration_seconds',
      help: 'Time from request to answer, by route pattern',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    resultsQuerySeconds: new Histogram({
      name: 'liftstream_stats_results_query_duration_seconds',
      help: 'ClickHouse time of a results request, by path: incremental, per-unit (time window), joined (tables disagreed), or its 404/503 outcome',
      labelNames: ['path'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    // liftstream_stats_http_client_errors_total, liftstream_stats_http_connections_dropped_total
    ...createClientLimitMetrics('liftstream_stats_', registers),
  };
}
