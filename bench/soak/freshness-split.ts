/**
 * The freshness verdict and its per-stage split (issue 19), from the probes' own times
 * (freshness-probe.ts) and their Kafka times (probe-watcher.ts). Stages, per probe, ms:
 *
 *   gateway    sent → acknowledged (the ingest records are committed: acks=all)
 *   processor  acknowledged → its output rows readable (read_committed: the transaction committed)
 *   sink       output readable → the poll that first counted the probe was sent (ClickHouse insert, and up to
 *              POLL_MS of polling resolution)
 *   query      that poll, sent → answered
 *   total      acknowledged → visible in the results (the bar), and sent → visible
 *
 * Inside the processor, from the Kafka timestamps: ingest produced → output produced (its fetches and
 * work) and output produced → readable (the rest of its transaction and the commit).
 */
import { percentile } from '../lib/paced-load.ts';
import type { ProbeTimes } from './freshness-probe.ts';
import type { ProbeKafkaTimes } from './probe-watcher.ts';

export interface FreshnessSample {
  gateway: number;
  processor: number;
  sink: number;
  query: number;
  /** acknowledged → visible: what the bar is about. */
  total: number;
  sentToVisible: number;
  processorProduce: number;
  processorCommit: number;
}

/**
 * One sample per probe that was acknowledged, seen in Kafka (both output rows) and visible; the others
 * are counted as `incomplete`.
 */
export function freshnessSamples(
  probes: readonly ProbeTimes[],
  kafka: ReadonlyMap<number, ProbeKafkaTimes>,
  include: (n: number) => boolean = () => true,
): { samples: FreshnessSample[]; incomplete: number } {
  const samples: FreshnessSample[] = [];
  let incomplete = 0;
  probes.forEach((p, n) => {
    if (!include(n)) return;
    const k = kafka.get(n);
    if (
      p.ackAt === undefined ||
      p.visibleAt === undefined ||
      p.pollStartAt === undefined ||
      k?.outputSeenAt === undefined ||
      k.outputTs === undefined ||
      k.ingestTs === undefined ||
      k.outputs.size < 2
    ) {
      incomplete++;
      return;
    }
    samples.push({
      gateway: p.ackAt - p.sentAt,
      processor: k.outputSeenAt - p.ackAt,
      sink: Math.max(0, p.pollStartAt - k.outputSeenAt),
      query: p.visibleAt - p.pollStartAt,
      total: p.visibleAt - p.ackAt,
      sentToVisible: p.visibleAt - p.sentAt,
      processorProduce: k.outputTs - k.ingestTs,
      processorCommit: k.outputSeenAt - k.outputTs,
    });
  });
  return { samples, incomplete };
}

/** p50 / p90 / p99 / max of one stage, ms. */
export function stageQuantiles(samples: readonly FreshnessSample[], stage: keyof FreshnessSample): number[] {
  const sorted = samples.map((s) => s[stage]).sort((a, b) => a - b);
  return [percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 0.99), sorted.at(-1) ?? NaN];
}

const ms = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)}` : '–');

/** The verdict line: p99 of ack → visible against the bar, met or MISSED. */
export function freshnessVerdict(label: string, samples: readonly FreshnessSample[], barMs: number): string {
  const [p50, p90, p99, max] = stageQuantiles(samples, 'total');
  const verdict = samples.length === 0 ? 'MISSED (no sample)' : (p99 as number) < barMs ? 'met' : 'MISSED';
  return (
    `${label}: gateway ack → visible in the results, ${samples.length} probes: p50 ${ms(p50 as number)} ms, ` +
    `p90 ${ms(p90 as number)}, p99 ${ms(p99 as number)}, max ${ms(max as number)} ms; bar p99 < ${barMs} ms: ${verdict}`
  );
}

/** The split table: one line per stage, p50 / p90 / p99 / max. */
export function splitLines(samples: readonly FreshnessSample[], incomplete: number): string[] {
  const stages: [keyof FreshnessSample, string][] = [
    ['gateway', 'gateway: sent → ack (ingest committed)'],
    ['processor', 'processor: ack → output committed (readable)'],
    ['processorProduce', '  of which ingest produced → output produced'],
    ['processorCommit', '  of which output produced → committed'],
    ['sink', 'sink: output committed → row queryable (± poll)'],
    ['query', 'query: the results request'],
    ['total', 'total: ack → visible'],
    ['sentToVisible', 'total: sent → visible'],
  ];
  const lines = [
    `  ${'stage (ms)'.padEnd(48)} ${'p50'.padStart(6)} ${'p90'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}`,
  ];
  for (const [stage, label] of stages) {
    const q = stageQuantiles(samples, stage).map((v) => ms(v).padStart(6));
    lines.push(`  ${label.padEnd(48)} ${q.join(' ')}`);
  }
  if (incomplete > 0)
    lines.push(`  (${incomplete} probes left out: not acknowledged, not seen in Kafka or not visible)`);
  return lines;
}

/**
 * Quantiles of a Prometheus histogram between two scrapes, summed over the series whose labels contain
 * `labelFilter`: the upper bound of the bucket holding each quantile (so "≤ 0.25 s"), and the count.
 */
export function histogramQuantiles(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  name: string,
  labelFilter: string,
  quantiles: readonly number[],
): { count: number; bounds: number[] } {
  const buckets = new Map<number, number>();
  for (const [series, value] of after) {
    if (!series.startsWith(`${name}_bucket{`) || !series.includes(labelFilter)) continue;
    const le = /[{,]le="([^"]+)"/.exec(series)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value - (before.get(series) ?? 0));
  }
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const count = sorted.at(-1)?.[1] ?? 0;
  const bounds = quantiles.map((q) => sorted.find(([, cumulative]) => cumulative >= q * count)?.[0] ?? NaN);
  return { count, bounds };
}

/** The sink's own freshness (liftstream_sink_record_age_seconds: insert time − the output record's Kafka timestamp). */
export function sinkAgeLine(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): string {
  const parts = ['exposures', 'attributed'].map((table) => {
    const { count, bounds } = histogramQuantiles(
      before,
      after,
      'liftstream_sink_record_age_seconds',
      `table="${table}"`,
      [0.5, 0.99],
    );
    const [p50, p99] = bounds.map((b) =>
      Number.isFinite(b) ? `≤ ${Math.round((b as number) * 1000)} ms` : '–',
    );
    return `${table} p50 ${p50}, p99 ${p99} (${count.toLocaleString('en-US')} rows)`;
  });
  return `sink's own record age at insert (liftstream_sink_record_age_seconds, bucket bounds): ${parts.join('; ')}`;
}
