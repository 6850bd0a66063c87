/** The soak's bookkeeping and printing: per-interval request figures, the interval line, trends. */
import { linearRegression } from 'simple-statistics';
import { percentile } from '../lib/paced-load.ts';
import { CLICKHOUSE_MEMORY, SERVICES, type GaugeSample, type ServiceName } from './pipeline-gauges.ts';

/** Request outcomes of one interval (or of the whole run). */
export class RequestTally {
  requests = 0;
  eventsPosted = 0;
  eventsAccepted = 0;
  /** Extra attempts after a 503. */
  retries = 0;
  /** Requests without a 200 after every attempt, by status (0: connection error). */
  failed = new Map<number, number>();
  /** 200 answers whose accepted count differs from the scenario's expectation. */
  verdictMismatches = 0;
  readonly latenciesMs: number[] = [];

  add(o: { events: number; accepted: number; attempts: number; status: number; latencyMs: number }): void {
    this.requests++;
    this.eventsPosted += o.events;
    this.eventsAccepted += o.accepted;
    this.retries += o.attempts - 1;
    if (o.status !== 200) this.failed.set(o.status, (this.failed.get(o.status) ?? 0) + 1);
    this.latenciesMs.push(o.latencyMs);
  }

  failures(): number {
    return [...this.failed.values()].reduce((a, b) => a + b, 0);
  }

  /** p50, p99 and max of the request latencies, ms (NaN when none). */
  latency(): { p50: number; p99: number; max: number } {
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
  }
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const secs = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : '–');
const per = (record: Record<ServiceName, number>, f: (n: number) => string): string =>
  SERVICES.map((s) => f(record[s])).join('/');

export const INTERVAL_HEADER =
  'elapsed  accepted/s  latency p50/p99 ms  503 retries  failed  processor lag ingest+units  sink lag kafka (own)  ' +
  `freshness p50/max s  RSS MB ${SERVICES.join('/')}  anon RSS MB ${SERVICES.join('/')}  CPU % ${SERVICES.join('/')}  state keys units/identities`;

/** One line per interval: what the brief of issue 7 asks to print every 30 s. */
export function intervalLine(opts: {
  label: string;
  seconds: number;
  tally: RequestTally;
  sample: GaugeSample;
  previous: GaugeSample | undefined;
  freshnessMs: number[];
}): string {
  const { tally, sample, previous } = opts;
  const latency = tally.latency();
  const fresh = [...opts.freshnessMs].sort((a, b) => a - b);
  const cpu = {} as Record<ServiceName, number>;
  const spanS = previous === undefined ? Number.NaN : (sample.atMs - previous.atMs) / 1000;
  for (const s of SERVICES) cpu[s] = (100 * (sample.cpuS[s] - (previous?.cpuS[s] ?? Number.NaN))) / spanS;
  const state =
    sample.stateKeys === null ? '–' : `${int(sample.stateKeys.units)}/${int(sample.stateKeys.identity)}`;
  return [
    opts.label.padStart(7),
    int(tally.eventsAccepted / opts.seconds).padStart(10),
    `${int(latency.p50)}/${int(latency.p99)}`.padStart(18),
    int(tally.retries).padStart(11),
    int(tally.failures()).padStart(6),
    `${int(sample.lag.ingest)}+${int(sample.lag.units)}`.padStart(27),
    `${int(sample.lag.sink)} (${sample.sinkReportedLag === null ? '–' : int(sample.sinkReportedLag)})`.padStart(
      20,
    ),
    `${secs(percentile(fresh, 0.5))}/${secs(fresh.at(-1) ?? Number.NaN)}`.padStart(19),
    per(sample.rssMb, int).padStart(22),
    per(sample.rssAnonMb, int).padStart(27),
    per(cpu, int).padStart(22),
    state.padStart(29),
  ].join('  ');
}

function perServiceDifference(
  a: Record<ServiceName, number>,
  b: Record<ServiceName, number>,
): Record<ServiceName, number> {
  const out = {} as Record<ServiceName, number>;
  for (const s of SERVICES) out[s] = a[s] - b[s];
  return out;
}

/** A least-squares line through (minute, value) points. */
export interface Trend {
  /** Units per minute. */
  slope: number;
  /** slope × the span of the points: how much the fitted line rises over them. */
  rise: number;
  spanMinutes: number;
  points: number;
}

/** The trend of `value` over `samples`; null with fewer than 3 usable points. */
export function trend(samples: readonly GaugeSample[], value: (s: GaugeSample) => number): Trend | null {
  const points = samples
    .map((s) => [s.atMs / 60_000, value(s)] as [number, number])
    .filter(([, y]) => Number.isFinite(y));
  if (points.length < 3) return null;
  const { m } = linearRegression(points);
  const spanMinutes = (points.at(-1) as [number, number])[0] - (points[0] as [number, number])[0];
  return { slope: m, rise: m * spanMinutes, spanMinutes, points: points.length };
}

function describeTrend(t: Trend | null, unit: string): string {
  if (t === null) return 'too few samples for a trend';
  const num = (n: number) =>
    `${n >= 0 ? '+' : ''}${Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)}`;
  return `slope ${num(t.slope)} ${unit}/min (${num(t.rise)} ${unit} over ${t.spanMinutes.toFixed(1)} min, ${t.points} samples)`;
}

/**
 * Verdict thresholds, as slopes of the least-squares line through the steady samples, with units.
 * They are absolute on purpose: a leak of 1 MB/min, or lag that grows by a record a second, must read
 * as growth however large the process or the traffic (they once were "10 MB or 5%" and "1,000
 * records or 1% of the traffic" over the run, under which +866 records/min was printed "bounded").
 */
export const FLAT_MEMORY_MB_PER_MIN = 0.5;
export const BOUNDED_LAG_RECORDS_PER_MIN = 60;

/** `flat` when memory rises by less than FLAT_MEMORY_MB_PER_MIN; `GROWING` otherwise. */
export function memoryVerdict(t: Trend | null): 'flat' | 'GROWING' | 'no verdict' {
  if (t === null) return 'no verdict';
  return t.slope < FLAT_MEMORY_MB_PER_MIN ? 'flat' : 'GROWING';
}

/** `bounded` when lag rises by at most BOUNDED_LAG_RECORDS_PER_MIN; `GROWING` otherwise. */
export function lagVerdict(t: Trend | null): 'bounded' | 'GROWING' | 'no verdict' {
  if (t === null) return 'no verdict';
  return t.slope <= BOUNDED_LAG_RECORDS_PER_MIN ? 'bounded' : 'GROWING';
}

/**
 * The memory and lag lines of the summary: each with its slope and its verdict against the thresholds
 * above (memory falling is flat; it is growth that is looked for). The processor's line adds its state
 * growth: state is kept RETENTION_DAYS (30), so under traffic of new users the state grows by design.
 * With STATE_STORE=disk (the default) it grows on disk: RSS still counts the LMDB file pages the process
 * has touched (reclaimable page cache), anonymous RSS and the heap do not.
 */
export function resourceVerdicts(opts: {
  /** Load-phase samples after the warm-up intervals. */
  steady: readonly GaugeSample[];
  /** Every load-phase sample. */
  load: readonly GaugeSample[];
  first: GaugeSample;
  last: GaugeSample;
  /** How the warm-up left out of `steady` is named in the lines, e.g. "the first 3.0 min". */
  warmup: string;
}): string[] {
  const { steady, first, last } = opts;
  const out: string[] = [];
  const memory = [
    ['RSS', (x: GaugeSample) => x.rssMb],
    [
      "V8 heap in use, from each service's /metrics: anonymous RSS minus this is native memory",
      (x: GaugeSample) => x.heapMb,
    ],
    [
      'anonymous RSS: heap and native memory, without mapped files such as the LMDB state',
      (x: GaugeSample) => x.rssAnonMb,
    ],
    [
      "native: anonymous RSS minus the V8 heap's committed size, i.e. without the heap's garbage-collection sawtooth",
      (x: GaugeSample) => perServiceDifference(x.rssAnonMb, x.heapCommittedMb),
    ],
  ] as const;
  for (const [what, of] of memory) {
    out.push(
      `memory (${what}; first interval → last interval of the load; trend over the samples after ${opts.warmup}):`,
    );
    for (const s of SERVICES) {
      const t = trend(steady, (x) => of(x)[s]);
      let line = `  ${s.padEnd(9)} ${of(first)[s].toFixed(0)} → ${of(last)[s].toFixed(0)} MB; ${describeTrend(t, 'MB')}: ${memoryVerdict(t)} (flat: < ${FLAT_MEMORY_MB_PER_MIN} MB/min)`;
      if (s === 'processor') {
        const k = trend(steady, (x) =>
          x.stateKeys === null ? Number.NaN : x.stateKeys.units + x.stateKeys.identity,
        );
        if (t !== null && k !== null && k.rise > 0)
          line += `; state ${describeTrend(k, 'keys')}, ${((1024 * t.rise) / k.rise).toFixed(2)} KB per new key`;
      }
      out.push(line);
    }
  }
  for (const m of CLICKHOUSE_MEMORY) {
    const t = trend(steady, (x) => x.clickhouseMb[m]);
    if (t !== null)
      out.push(
        `stats: ClickHouse ${m} ${first.clickhouseMb[m].toFixed(0)} → ${last.clickhouseMb[m].toFixed(0)} MB; ${describeTrend(t, 'MB')}`,
      );
  }
  const keys = (x: GaugeSample): number =>
    x.stateKeys === null ? Number.NaN : x.stateKeys.units + x.stateKeys.identity;
  if (Number.isFinite(last.stateDiskMb)) {
    out.push(
      `processor state on disk (STATE_STORE=disk): ${first.stateDiskMb.toFixed(0)} → ${last.stateDiskMb.toFixed(0)} MB, ` +
        `${((last.stateDiskMb * 1024 * 1024) / keys(last)).toFixed(0)} B per key at the end`,
    );
  }
  for (const [name, value] of [
    ['processor lag (ingest + units)', (x: GaugeSample) => x.lag.ingest + x.lag.units],
    ['sink lag (Kafka commits)', (x: GaugeSample) => x.lag.sink],
  ] as const) {
    const t = trend(steady, value);
    const max = Math.max(...opts.load.map(value));
    out.push(
      `${name}: max ${max.toLocaleString('en-US')} records during the load; ${describeTrend(t, 'records')}: ` +
        `${lagVerdict(t)} (bounded: ≤ ${BOUNDED_LAG_RECORDS_PER_MIN} records/min)`,
    );
  }
  return out;
}
