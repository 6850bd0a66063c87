/**
 * ClickHouse's active parts of the sink's tables (liftstream_stats_clickhouse_parts), sampled from the stats
 * process's /metrics through a phase: the mean and the most, beside the one figure at the end. Parts come
 * and go with every insert and merge, so one snapshot says where merges happened to stand; the mean over
 * the phase is what the batching keeps (issue 19's part-count bar).
 */
import { scrapeMetrics } from '../lib/scrape-metrics.ts';
import { SINK_TABLES } from './sink-batching.ts';

export interface PartsSummary {
  samples: number;
  mean: number;
  max: number;
}

/** Samples every `everyMs` until the returned stop() is called; stop() resolves with the summary. */
export function sampleActiveParts(statsUrl: string, everyMs = 3_000): () => Promise<PartsSummary> {
  const counts: number[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  const take = () => {
    inFlight = scrapeMetrics(`${statsUrl}/metrics`).then((m) => {
      const values = SINK_TABLES.map((t) => m.get(`liftstream_stats_clickhouse_parts{table="${t}"}`));
      if (values.every((v) => v !== undefined)) counts.push(values.reduce((a, b) => a + (b as number), 0));
    });
  };
  take();
  const timer = setInterval(take, everyMs);
  return async () => {
    clearInterval(timer);
    await inFlight;
    const mean = counts.length === 0 ? Number.NaN : counts.reduce((a, b) => a + b, 0) / counts.length;
    return { samples: counts.length, mean, max: counts.length === 0 ? Number.NaN : Math.max(...counts) };
  };
}
