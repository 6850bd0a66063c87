import type { ClickHouseClient } from '@clickhouse/client';
import { Gauge, type Registry } from 'prom-client';

/**
 * ClickHouse's own memory accounting (system.metrics), so a growing stats process can be told apart:
 * the heap is in the Node metrics, these are the engine's (MemoryTracking is everything it tracks; the
 * caches are parts of it). With embedded chDB they are this process's native memory; with a server, the
 * server's.
 */
const METRICS = [
  'MemoryTracking',
  'MarkCacheBytes',
  'PrimaryIndexCacheBytes',
  'UncompressedCacheBytes',
  'QueryCacheBytes',
  'QueryConditionCacheBytes',
  'PageCacheBytes',
] as const;

/** Registers `liftstream_stats_clickhouse_memory_bytes{metric}`, read from ClickHouse on each scrape. */
export function registerClickHouseMemoryGauge(registry: Registry, clickhouse: ClickHouseClient): void {
  new Gauge({
    name: 'liftstream_stats_clickhouse_memory_bytes',
    help: 'ClickHouse memory by its own accounting (system.metrics): MemoryTracking and the caches within it',
    labelNames: ['metric'] as const,
    registers: [registry],
    async collect() {
      try {
        const result = await clickhouse.query({
          query: 'SELECT metric, value FROM system.metrics WHERE metric IN {metrics:Array(String)}',
          query_params: { metrics: METRICS },
          format: 'JSONEachRow',
          // Well inside a scrape's timeout: a hung ClickHouse must not fail /metrics.
          abort_signal: AbortSignal.timeout(2_000),
        });
        for (const row of await result.json<{ metric: string; value: number | string }>()) {
          this.set({ metric: row.metric }, Number(row.value));
        }
      } catch {
        // A scrape must not fail because ClickHouse is busy or down; /readyz reports that.
        this.reset();
      }
    },
  });
}
