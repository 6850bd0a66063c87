/**
 * The ingest report consumer's Prometheus metrics, on the stats process's registry. Re-registering on the
 * same registry reuses them (a consumer restarted in one process keeps counting). No project label, like
 * every series here: /metrics answers without a key.
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export interface IngestReportMetrics {
  /** Records read, by outcome: `stored` (inserted into ingest_reports) or `invalid` (logged and skipped). */
  readonly records: Counter<'outcome'>;
  /** Failed insert attempts, each retried with backoff. */
  readonly insertFailures: Counter;
}

export function createIngestReportMetrics(registry: Registry): IngestReportMetrics {
  const registers = [registry];
  const reuse = <M>(name: string, make: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? make();
  return {
    records: reuse('liftstream_stats_ingest_reports_total', () => {
      const counter = new Counter({
        name: 'liftstream_stats_ingest_reports_total',
        help: 'Gateway ingest reports read, by outcome (stored; invalid: logged and skipped)',
        labelNames: ['outcome'] as const,
        registers,
      });
      for (const outcome of ['stored', 'invalid']) counter.inc({ outcome }, 0);
      return counter;
    }),
    insertFailures: reuse(
      'liftstream_stats_ingest_report_insert_failures_total',
      () =>
        new Counter({
          name: 'liftstream_stats_ingest_report_insert_failures_total',
          help: 'Failed inserts of ingest reports into ClickHouse (retried with backoff)',
          registers,
        }),
    ),
  };
}
