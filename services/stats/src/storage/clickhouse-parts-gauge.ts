import type { ClickHouseClient } from '@clickhouse/client';
import { Gauge, type Registry } from 'prom-client';

/**
 * Active parts per table of liftstream's database (system.parts): each sink insert writes one part and
 * merges combine them, so this is what the sink's batching buys (issue 19 holds the adaptive flush to the
 * part counts of the interval flush at full load). Tables: the sink's three and whatever else the
 * database holds, a handful.
 */
export function registerClickHousePartsGauge(registry: Registry, clickhouse: ClickHouseClient): void {
  new Gauge({
    name: 'liftstream_stats_clickhouse_parts',
    help: 'Active ClickHouse parts per table of the liftstream database (system.parts)',
    labelNames: ['table'] as const,
    registers: [registry],
    async collect() {
      try {
        const result = await clickhouse.query({
          query:
            'SELECT table, toFloat64(count()) AS parts FROM system.parts ' +
            'WHERE active AND database = currentDatabase() GROUP BY table',
          format: 'JSONEachRow',
          // Well inside a scrape's timeout: a hung ClickHouse must not fail /metrics.
          abort_signal: AbortSignal.timeout(2_000),
        });
        this.reset();
        for (const row of await result.json<{ table: string; parts: number | string }>()) {
          this.set({ table: row.table }, Number(row.parts));
        }
      } catch {
        // A scrape must not fail because ClickHouse is busy or down; /readyz reports that.
        this.reset();
      }
    },
  });
}
