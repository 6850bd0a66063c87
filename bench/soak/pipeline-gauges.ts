/**
 * What the soak samples from the running pipeline: consumer lag from Kafka, each service's RSS and
 * CPU from /proc, the processor's state size from its metrics, and the sink's own view of its lag.
 *
 * Lag = Σ over partitions of (high watermark − committed offset). Two caveats:
 * - the processor commits its input offsets (`ingest`, and its own transactional repartition topic
 *   `processor.units`) inside its transactions, right after the last record it processed. Every
 *   transaction that wrote to a partition ends there with a commit marker, and markers that trail the
 *   last record are never committed past: a drained `units` group keeps a small constant lag (seen:
 *   1–7 per partition, and no data record, committed or not, beyond the committed offsets);
 * - the sink stores its offsets with the rows in ClickHouse (the record of truth) and commits them to
 *   Kafka afterwards as a hint (kafkajs autoCommit), so its Kafka lag runs a little behind; the sink's
 *   own count (stats /readyz `checks.sink.lag`, as of its last fetch) is printed beside it.
 */
import type { Admin } from 'kafkajs';
import { committedOffsets, topicBounds } from '../../shared/streams/offsets.ts';
import type { TopicNames } from '../../shared/kafka/topics.ts';
import { cpuSeconds, rssAnonMb, rssMb } from '../lib/process-stats.ts';
import { scrapeMetrics } from '../lib/scrape-metrics.ts';

export const SERVICES = ['gateway', 'processor', 'stats'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface GaugeSample {
  /** ms since the soak started. */
  atMs: number;
  /** NaN when the process is gone. */
  rssMb: Record<ServiceName, number>;
  /** The anonymous part of RSS (heap and native memory, not mapped files such as the LMDB state). */
  rssAnonMb: Record<ServiceName, number>;
  /** Cumulative CPU seconds of each process (all threads). */
  cpuS: Record<ServiceName, number>;
  /** Processor group on `ingest` and on `processor.units`; sink group on `exposures` + `attributed`. */
  lag: { ingest: number; units: number; sink: number };
  /** The sink's own lag (stats /readyz), null when not reported. */
  sinkReportedLag: number | null;
  /** Keys in the processor's state stores (units, raw identities), null when its metrics do not answer. */
  stateKeys: { units: number; identity: number } | null;
  /** ClickHouse's own memory accounting in the stats process (system.metrics), MB; NaN when not reported. */
  clickhouseMb: Record<(typeof CLICKHOUSE_MEMORY)[number], number>;
  /** The processor's on-disk state file, MB (NaN with STATE_STORE=memory or no answer). */
  stateDiskMb: number;
  /** V8 heap in use per service, MB (their /metrics; NaN when one does not answer). */
  heapMb: Record<ServiceName, number>;
  /** V8 heap committed per service (its pages, used or not), MB; NaN as heapMb. */
  heapCommittedMb: Record<ServiceName, number>;
}

export interface GaugeTargets {
  admin: Admin;
  topics: TopicNames;
  processorGroup: string;
  sinkGroup: string;
  pids: Record<ServiceName, number>;
  gatewayUrl: string;
  statsUrl: string;
  processorMetricsUrl: string | null;
}

/** The parts of ClickHouse's memory (liftstream_stats_clickhouse_memory_bytes) the soak follows. */
export const CLICKHOUSE_MEMORY = ['MemoryTracking', 'MarkCacheBytes', 'PrimaryIndexCacheBytes'] as const;

/** Each service's prefix for prom-client's default metrics. */
const METRICS_PREFIX: Record<ServiceName, string> = {
  gateway: 'liftstream_gateway_',
  processor: 'liftstream_processor_',
  stats: 'liftstream_stats_',
};

/** Records not yet consumed by `groupId` on `topic`. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [bounds, committed] = await Promise.all([
    topicBounds(admin, topic),
    committedOffsets(admin, groupId, topic),
  ]);
  let lag = 0;
  for (const [partition, { high, low }] of bounds)
    lag += Math.max(0, high - (committed.get(partition) ?? low));
  return lag;
}

function perService(
  read: (pid: number) => number,
  pids: Record<ServiceName, number>,
): Record<ServiceName, number> {
  const out = {} as Record<ServiceName, number>;
  for (const name of SERVICES) {
    try {
      out[name] = read(pids[name]);
    } catch {
      out[name] = Number.NaN; // the process exited
    }
  }
  return out;
}

async function sinkReportedLag(statsUrl: string): Promise<number | null> {
  const body = await fetch(`${statsUrl}/readyz`, { signal: AbortSignal.timeout(3_000) })
    .then((r) => r.json() as Promise<{ checks?: { sink?: { lag?: number } } }>)
    .catch(() => null);
  return body?.checks?.sink?.lag ?? null;
}

export async function sampleGauges(t: GaugeTargets, startedAt: number): Promise<GaugeSample> {
  const atMs = Date.now() - startedAt;
  const [ingest, units, exposures, attributed, reported, metrics, gatewayMetrics, statsMetrics] =
    await Promise.all([
      groupLag(t.admin, t.processorGroup, t.topics.ingest),
      groupLag(t.admin, t.processorGroup, t.topics.units),
      groupLag(t.admin, t.sinkGroup, t.topics.exposures),
      groupLag(t.admin, t.sinkGroup, t.topics.attributed),
      sinkReportedLag(t.statsUrl),
      t.processorMetricsUrl === null
        ? Promise.resolve(new Map<string, number>())
        : scrapeMetrics(t.processorMetricsUrl),
      scrapeMetrics(`${t.gatewayUrl}/metrics`),
      scrapeMetrics(`${t.statsUrl}/metrics`),
    ]);
  const scraped: Record<ServiceName, Map<string, number>> = {
    gateway: gatewayMetrics,
    processor: metrics,
    stats: statsMetrics,
  };
  const gaugeMb = (series: string) => {
    const out = {} as Record<ServiceName, number>;
    for (const s of SERVICES)
      out[s] = (scraped[s].get(`${METRICS_PREFIX[s]}${series}`) ?? Number.NaN) / 1024 / 1024;
    return out;
  };
  const unitKeys = metrics.get('liftstream_processor_state_keys{store="units"}');
  const identityKeys = metrics.get('liftstream_processor_state_keys{store="identity"}');
  return {
    atMs,
    rssMb: perService(rssMb, t.pids),
    rssAnonMb: perService(rssAnonMb, t.pids),
    cpuS: perService(cpuSeconds, t.pids),
    lag: { ingest, units, sink: exposures + attributed },
    sinkReportedLag: reported,
    stateKeys:
      unitKeys === undefined || identityKeys === undefined
        ? null
        : { units: unitKeys, identity: identityKeys },
    heapMb: gaugeMb('nodejs_heap_size_used_bytes'),
    heapCommittedMb: gaugeMb('nodejs_heap_size_total_bytes'),
    stateDiskMb: (metrics.get('liftstream_processor_state_disk_bytes') ?? Number.NaN) / 1024 / 1024,
    clickhouseMb: Object.fromEntries(
      CLICKHOUSE_MEMORY.map((m) => [
        m,
        (statsMetrics.get(`liftstream_stats_clickhouse_memory_bytes{metric="${m}"}`) ?? Number.NaN) /
          1024 /
          1024,
      ]),
    ) as GaugeSample['clickhouseMb'],
  };
}

/** The processor's transaction outcomes and dropped duplicates so far, from its metrics; null when they do not answer. */
export async function processorCounters(
  metricsUrl: string | null,
): Promise<{ transactions: Record<string, number>; duplicatesDropped: number } | null> {
  const metrics = metricsUrl === null ? new Map<string, number>() : await scrapeMetrics(metricsUrl);
  if (metrics.size === 0) return null;
  const transactions: Record<string, number> = {};
  for (const [series, value] of metrics) {
    const result = /^liftstream_processor_transactions_total\{.*result="([a-z]+)"/.exec(series)?.[1];
    if (result !== undefined) transactions[result] = (transactions[result] ?? 0) + value;
  }
  return {
    transactions,
    duplicatesDropped: metrics.get('liftstream_processor_duplicates_dropped_total') ?? 0,
  };
}
