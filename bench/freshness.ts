/**
 * Whole-pipeline freshness benchmark (issue 19; not a test): gateway → processor → sink → stats as child
 * processes (test/helpers/pipeline.ts, embedded ClickHouse), against the running broker and registry,
 * once per sink setting, the settings one after the other in the same run:
 *
 *   npx tsx bench/freshness.ts [--settings interval:1000,adaptive:400] [--idle-seconds 30]
 *        [--idle-probe-rate 2] [--half-probe-rate 2] [--full-rate 6000] [--full-seconds 45] [--max-rate N] [--half-seconds 90]
 *        [--half-warmup 15] [--partitions 8] [--users 200] [--experiments 3] [--seed 1] [--keep-logs]
 *
 * Env: KAFKA_BROKERS (127.0.0.1:9092), SCHEMA_REGISTRY_URL (http://127.0.0.1:8081/apis/ccompat/v7). A
 * setting is SINK_FLUSH_MODE:SINK_FLUSH_INTERVAL_MS[:SINK_INSERT_SHARE][@nice][/COMMIT_MIN_SPACING_MS]; `interval:1000`
 * is the sink before issue 19; `@10` runs every thread of the stats process at nice 10 (the others stay at 0);
 * `/50` spaces the processor's caught-up commits 50 ms apart per task, `/300:300` 300 ms with COMMIT_INTERVAL_MS 300
 * (the spacing may not exceed the interval). `+NAME=value` (repeatable) sets any other variable of the pipeline's
 * services, e.g. `adaptive:400+TRANSACTION_FIRST_RETRY_MS=50` for the processor's retry before issue 19 (not one
 * the bench sets itself; a value cannot hold `+` or `,`).
 *
 * Phases of each setting:
 * 1. idle: only probes (bench/soak/freshness-probe.ts: an exposure and a purchase of a new unit each) at
 *    --idle-probe-rate a second, a quiet pipeline. Bar: gateway ack → visible in the results p99 < 500 ms.
 * 2. full load: the soak's scenario traffic (bench/soak/scenario-traffic.ts) offered at --full-rate, above
 *    what the processor (the narrowest stage) sustains. The max rate is the ingest records the processor
 *    consumed per second meanwhile (valid when its lag grew: it was saturated). The sink's batching at
 *    this load is what the adaptive flush must not give up: inserts (= parts written) and rows per
 *    insert, active parts (the mean of samples every 3 s through the phase; the figure at the end, a
 *    snapshot of where merges stand, is printed beside it), the stats process's CPU per event (its CPU
 *    seconds over the events the processor consumed), each beside the first setting's with the ratio (bar:
 *    within 10%).
 * 3. drain, until the processor and the sink have caught up.
 * 4. half rate: the same traffic at half the max rate (--max-rate if given, else the first setting's phase
 *    2 figure, so every setting runs the same rate) with --half-probe-rate probes a second; probes after
 *    --half-warmup seconds count. Bar: p99 < 1 s. The default 2 a second gives ~120 probes, whose p99
 *    (nearest rank) is the second slowest; with 1 a second (as before 2 became the default) it is the
 *    slowest of ~60.
 * Each phase also prints the processor's and the stats process's pauses (bench/soak/pause-line.ts).
 * Each freshness line comes with its split by stage (bench/soak/freshness-split.ts).
 *
 * Throughput counts only events acknowledged with a 200; failed requests and 503 retries are printed.
 * Everything lives under fresh topic prefixes, groups and temporary directories, removed at the end.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { topicNames, type TopicNames } from '../shared/kafka/topics.ts';
import { startPipeline, type Pipeline } from '../test/helpers/pipeline.ts';
import { pacedLoad, type PacedOutcome } from './lib/paced-load.ts';
import { childPids, cpuSeconds } from './lib/process-stats.ts';
import { scrapeMetrics } from './lib/scrape-metrics.ts';
import { FreshnessProbe, PROBE_EVENTS, PROBE_PROJECT, type ProbeRequest } from './soak/freshness-probe.ts';
import {
  freshnessSamples,
  freshnessVerdict,
  sinkAgeLine,
  splitLines,
  stageQuantiles,
  type FreshnessSample,
} from './soak/freshness-split.ts';
import { groupLag } from './soak/pipeline-gauges.ts';
import { ProbeWatcher } from './soak/probe-watcher.ts';
import { soakProjects, type TrafficOptions } from './soak/scenario-traffic.ts';
import { sinkBatching, sinkBatchingLines, type SinkBatching } from './soak/sink-batching.ts';
import { sampleActiveParts, type PartsSummary } from './soak/parts-sampler.ts';
import { pauseLine } from './soak/pause-line.ts';
import { processorCommitLine } from './soak/processor-commits.ts';
import { logProblems, processorMetricsUrl } from './soak/service-logs.ts';
import { TrafficSource, type TrafficRequest } from './soak/traffic-source.ts';

const { values: args } = parseArgs({
  options: {
    settings: { type: 'string', default: 'interval:1000,adaptive:400' },
    'idle-seconds': { type: 'string', default: '30' },
    'idle-probe-rate': { type: 'string', default: '2' },
    'half-probe-rate': { type: 'string', default: '2' },
    'full-rate': { type: 'string', default: '6000' },
    'full-seconds': { type: 'string', default: '45' },
    'max-rate': { type: 'string' },
    'half-seconds': { type: 'string', default: '90' },
    'half-warmup': { type: 'string', default: '15' },
    partitions: { type: 'string', default: '8' },
    users: { type: 'string', default: '200' },
    experiments: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '100' },
    'drain-timeout': { type: 'string', default: '300' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof args): number => {
  const value = Number(args[name]);
  if (!(value >= 0)) throw new Error(`--${name}: expected a number >= 0, got ${String(args[name])}`);
  return value;
};
/** Variables the bench sets for every setting (topics, groups, the sink's and processor's own syntax). */
const BENCH_SETS = new Set([
  'TOPIC_PREFIX',
  'TOPIC_PARTITIONS',
  'PROCESSOR_APP_ID',
  'SINK_GROUP_ID',
  'SINK_FLUSH_MODE',
  'SINK_FLUSH_INTERVAL_MS',
  'SINK_INSERT_SHARE',
  'COMMIT_MIN_SPACING_MS',
  'COMMIT_INTERVAL_MS',
]);
const SETTINGS = (args.settings as string).split(',').map((label) => {
  const [base, ...envParts] = label.split('+');
  const env: Record<string, string> = {};
  for (const part of envParts) {
    const match = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(part);
    if (match === null)
      throw new Error(`--settings: expected +NAME=value after a setting, got +${part} in ${label}`);
    if (BENCH_SETS.has(match[1]!))
      throw new Error(
        `--settings: ${match[1]} is set by the bench itself (use the setting's own syntax, or nothing), in ${label}`,
      );
    env[match[1]!] = match[2]!;
  }
  const [sinkPart, processorPart] = (base as string).split('/');
  const [spacingText, commitIntervalText] = processorPart === undefined ? [] : processorPart.split(':');
  const [s, niceText] = (sinkPart as string).split('@');
  const [mode, interval, share] = (s as string).split(':');
  const nice = niceText === undefined ? 0 : Number(niceText);
  const commitSpacing = spacingText === undefined ? undefined : Number(spacingText);
  const commitInterval = commitIntervalText === undefined ? undefined : Number(commitIntervalText);
  if (
    (mode !== 'adaptive' && mode !== 'interval') ||
    !(Number(interval) > 0) ||
    (share !== undefined && !(Number(share) > 0 && Number(share) <= 1)) ||
    !(Number.isInteger(nice) && nice >= 0 && nice <= 19) ||
    (commitSpacing !== undefined && !(Number.isInteger(commitSpacing) && commitSpacing >= 0)) ||
    (commitInterval !== undefined && !(Number.isInteger(commitInterval) && commitInterval >= 0))
  )
    throw new Error(
      `--settings: expected mode:intervalMs[:insertShare][@nice][/commitSpacingMs[:commitIntervalMs]] (adaptive|interval; share in (0, 1]; nice 0-19; spacing and interval integers >= 0), got ${label}`,
    );
  return {
    label,
    mode,
    intervalMs: Number(interval),
    insertShare: share,
    nice,
    commitSpacing,
    commitInterval,
    env,
  };
});
const IDLE_S = num('idle-seconds');
const IDLE_PROBE_RATE = num('idle-probe-rate');
const FULL_RATE = num('full-rate');
const FULL_S = num('full-seconds');
const HALF_S = num('half-seconds');
const HALF_WARMUP_S = num('half-warmup');
const BATCH = num('batch');
const NAMED_MAX_RATE = args['max-rate'] === undefined ? null : num('max-rate');
const IDLE_BAR_MS = 500;
const HALF_BAR_MS = 1_000;
/** The full-load figures of the adaptive flush must stay within this ratio of the first setting's. */
const WITHIN = 0.1;
const HALF_PROBE_RATE = num('half-probe-rate');
const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const REGISTRY = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const traffic: TrafficOptions = {
  seed: num('seed'),
  usersPerChunk: num('users'),
  experimentsPerProject: num('experiments'),
  batch: BATCH,
};
const kafka = new Kafka({
  clientId: 'freshness-bench',
  brokers: BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const stop = new AbortController();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());

/** Requests of one phase: 2xx-acknowledged events, failures by status, 503 retries. */
class Tally {
  eventsAccepted = 0;
  requests = 0;
  retries = 0;
  readonly failed = new Map<number, number>();
  add(o: PacedOutcome<TrafficRequest | ProbeRequest>, accepted: number): void {
    this.requests++;
    this.retries += o.attempts - 1;
    if (o.status >= 200 && o.status < 300) this.eventsAccepted += accepted;
    else this.failed.set(o.status, (this.failed.get(o.status) ?? 0) + 1);
  }
  errors(): string {
    const failed = [...this.failed].map(([s, n]) => `${n}× ${s === 0 ? 'connection error' : s}`).join(', ');
    return `${this.requests.toLocaleString('en-US')} requests, failed ${failed === '' ? 0 : failed}, 503 retries ${this.retries}`;
  }
}

interface SettingResult {
  label: string;
  idle: FreshnessSample[];
  half: FreshnessSample[];
  halfRate: number;
  maxRate: number;
  saturated: boolean;
  full: SinkBatching;
  /** Active parts sampled through the full-load phase. */
  fullParts: PartsSummary;
  statsCpuUsPerEvent: number;
  statsCpuUsPerRow: number;
}

interface Targets {
  pipeline: Pipeline;
  topics: TopicNames;
  processorGroup: string;
  sinkGroup: string;
  processorMetrics: string | null;
}

/** Paced load of probes and/or traffic for `seconds`; resolves when every request is answered. */
async function load(opts: {
  pipeline: Pipeline;
  trafficRate: number;
  probeRate: number;
  seconds: number;
  source: TrafficSource | null;
  probe: FreshnessProbe;
  tally: Tally;
}): Promise<void> {
  const requestRate = opts.trafficRate / BATCH + opts.probeRate;
  const isProbe = (i: number) =>
    opts.probeRate > 0 &&
    Math.floor(((i + 1) * opts.probeRate) / requestRate) > Math.floor((i * opts.probeRate) / requestRate);
  await pacedLoad<TrafficRequest | ProbeRequest>({
    url: opts.pipeline.gatewayUrl,
    rate: requestRate,
    seconds: opts.seconds,
    next: (i) => (isProbe(i) || opts.source === null ? opts.probe.request() : (opts.source.next() ?? null)),
    onDone: (o) => {
      const accepted = o.status === 200 ? (JSON.parse(o.body) as { accepted: number }).accepted : 0;
      if (o.request.kind === 'probe') opts.probe.answered(o.request.n, accepted);
      opts.tally.add(o, accepted);
    },
    retryStatuses: [503],
    maxAttempts: 10,
    signal: stop.signal,
  });
}

async function waitVisible(probe: FreshnessProbe, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (probe.outstanding() > 0 && Date.now() < deadline && !stop.signal.aborted) await sleep(50);
}

/** Until nothing is left on ingest and the other lags stand still for 5 s; seconds, null at the deadline. */
async function drain(t: Targets): Promise<number | null> {
  const started = Date.now();
  const deadline = started + num('drain-timeout') * 1000;
  let before = '';
  let stableSince = Date.now();
  while (Date.now() < deadline && !stop.signal.aborted) {
    const [ingest, units, exposures, attributed] = await Promise.all([
      groupLag(admin, t.processorGroup, t.topics.ingest),
      groupLag(admin, t.processorGroup, t.topics.units),
      groupLag(admin, t.sinkGroup, t.topics.exposures),
      groupLag(admin, t.sinkGroup, t.topics.attributed),
    ]);
    const now = `${units}/${exposures}/${attributed}`;
    if (ingest !== 0 || now !== before) stableSince = Date.now();
    else if (Date.now() - stableSince >= 5_000) return (stableSince - started) / 1000;
    before = now;
    await sleep(1_000);
  }
  return null;
}

const ms = (n: number | undefined): string =>
  n !== undefined && Number.isFinite(n) ? `${Math.round(n)}` : '–';

async function runSetting(
  setting: (typeof SETTINGS)[number],
  maxRateForHalf: number | null,
): Promise<SettingResult | null> {
  const runId = randomUUID().slice(0, 8);
  const prefix = `fresh-${runId}.`;
  const topics = topicNames(prefix);
  const processorGroup = `fresh-${runId}-processor`;
  const sinkGroup = `fresh-${runId}-sink`;
  let pipeline: Pipeline | null = null;
  let source: TrafficSource | null = null;
  let watcher: ProbeWatcher | null = null;
  let probe: FreshnessProbe | null = null;
  try {
    console.log(
      `\n=== setting ${setting.label}: SINK_FLUSH_MODE=${setting.mode} SINK_FLUSH_INTERVAL_MS=${setting.intervalMs} ` +
        `SINK_INSERT_SHARE=${setting.insertShare ?? '(default)'} ` +
        `COMMIT_MIN_SPACING_MS=${setting.commitSpacing ?? '(default)'} ` +
        `COMMIT_INTERVAL_MS=${setting.commitInterval ?? '(default)'} ` +
        Object.entries(setting.env)
          .map(([name, value]) => `${name}=${value} `)
          .join('') +
        `(topic prefix ${prefix}; load average ${os.loadavg()[0]?.toFixed(1)}) ===`,
    );
    const projects = [
      ...soakProjects(traffic),
      { id: PROBE_PROJECT, attribution: 'cumulative' as const, expectedSplit: {} },
    ];
    pipeline = await startPipeline({
      kafkaBrokers: BROKERS,
      registryUrl: REGISTRY,
      projects,
      extraEnv: {
        TOPIC_PREFIX: prefix,
        TOPIC_PARTITIONS: args.partitions,
        PROCESSOR_APP_ID: processorGroup,
        SINK_GROUP_ID: sinkGroup,
        SINK_FLUSH_MODE: setting.mode,
        SINK_FLUSH_INTERVAL_MS: String(setting.intervalMs),
        ...(setting.insertShare === undefined ? {} : { SINK_INSERT_SHARE: setting.insertShare }),
        ...(setting.commitSpacing === undefined
          ? {}
          : { COMMIT_MIN_SPACING_MS: String(setting.commitSpacing) }),
        ...(setting.commitInterval === undefined
          ? {}
          : { COMMIT_INTERVAL_MS: String(setting.commitInterval) }),
        ...setting.env,
      },
    });
    const p = pipeline;
    const t: Targets = {
      pipeline: p,
      topics,
      processorGroup,
      sinkGroup,
      processorMetrics: processorMetricsUrl(p.services.processor.logFile),
    };
    const keys = p.keys;
    const writeKeys = Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, k.write]));
    source = new TrafficSource(traffic, writeKeys);
    await source.warmUp();
    probe = new FreshnessProbe(p.statsUrl, keys[PROBE_PROJECT] as { write: string; read: string });
    watcher = new ProbeWatcher(kafka, topics);
    await watcher.start();
    probe.start();
    const statsPid = p.services.stats.child.pid as number;
    if (setting.nice > 0)
      console.log(
        `stats process niced to ${setting.nice}: ${niceAllThreads(statsPid, setting.nice)} threads`,
      );

    // 1. Idle.
    const idleTally = new Tally();
    let before = await scrapeMetrics(`${p.statsUrl}/metrics`);
    let procPhaseBefore = await scrapeProcessor(t);
    const idleStarted = Date.now();
    await load({
      pipeline: p,
      trafficRate: 0,
      probeRate: IDLE_PROBE_RATE,
      seconds: IDLE_S,
      source: null,
      probe,
      tally: idleTally,
    });
    await waitVisible(probe);
    const idleProbes = probe.probes.length;
    const idle = freshnessSamples(probe.probes, watcher.times);
    console.log(
      `idle (${IDLE_PROBE_RATE} probes/s, ${IDLE_PROBE_RATE * PROBE_EVENTS} events/s, ${IDLE_S} s): ${idleTally.errors()}`,
    );
    console.log(freshnessVerdict('idle freshness', idle.samples, IDLE_BAR_MS));
    for (const line of splitLines(idle.samples, idle.incomplete)) console.log(line);
    const [idleAfter, procIdleAfter] = await Promise.all([
      scrapeMetrics(`${p.statsUrl}/metrics`),
      scrapeProcessor(t),
    ]);
    const idleSeconds = (Date.now() - idleStarted) / 1000;
    console.log(sinkAgeLine(before, idleAfter));
    console.log('  sink during the phase:');
    for (const line of sinkBatchingLines(sinkBatching(before, idleAfter, idleSeconds))) console.log(line);
    console.log(processorCommitLine(procPhaseBefore, procIdleAfter, idleSeconds));
    console.log(pauseLine('processor', 'liftstream_processor_', procPhaseBefore, procIdleAfter, idleSeconds));
    console.log(pauseLine('stats (with the sink)', 'liftstream_stats_', before, idleAfter, idleSeconds));
    if (stop.signal.aborted) return null;

    // 2. Full load.
    const fullTally = new Tally();
    before = await scrapeMetrics(`${p.statsUrl}/metrics`);
    const procBefore = await scrapeProcessor(t);
    const cpuBefore = cpuSeconds(statsPid);
    const stopParts = sampleActiveParts(p.statsUrl);
    const fullStarted = Date.now();
    await load({
      pipeline: p,
      trafficRate: FULL_RATE,
      probeRate: 0,
      seconds: FULL_S,
      source,
      probe,
      tally: fullTally,
    });
    const fullSeconds = (Date.now() - fullStarted) / 1000;
    const cpu = cpuSeconds(statsPid) - cpuBefore;
    const fullParts = await stopParts();
    const after = await scrapeMetrics(`${p.statsUrl}/metrics`);
    const procAfter = await scrapeProcessor(t);
    const identity = 'liftstream_processor_records_in_total{stage="identity"}';
    const processed = (procAfter.get(identity) ?? NaN) - (procBefore.get(identity) ?? NaN);
    const ingestLag = await groupLag(admin, processorGroup, topics.ingest);
    const maxRate = processed / fullSeconds;
    const saturated = ingestLag > maxRate; // more than a second of backlog at the end
    const full = sinkBatching(before, after, fullSeconds);
    const rows = full.rows['all'] as number;
    console.log(
      `full load: offered ${FULL_RATE.toLocaleString('en-US')} events/s for ${fullSeconds.toFixed(0)} s, ` +
        `${Math.round(fullTally.eventsAccepted / fullSeconds).toLocaleString('en-US')} acknowledged (2xx) events/s; ${fullTally.errors()}`,
    );
    console.log(
      `  processor consumed ${Math.round(maxRate).toLocaleString('en-US')} ingest records/s (the max rate), ` +
        `ingest lag at the end ${ingestLag.toLocaleString('en-US')}: ${saturated ? 'saturated' : 'NOT saturated (raise --full-rate): the max rate is a lower bound'}`,
    );
    console.log(
      `  stats process CPU ${cpu.toFixed(1)} s: ${((1e6 * cpu) / processed).toFixed(1)} µs per event consumed by the processor, ` +
        `${((1e6 * cpu) / Math.max(1, rows)).toFixed(1)} µs per row inserted; sink during the phase:`,
    );
    for (const line of sinkBatchingLines(full)) console.log(line);
    console.log(
      `  active parts of the three tables over the phase: mean ${fullParts.mean.toFixed(1)}, most ${fullParts.max} ` +
        `(${fullParts.samples} samples, one every 3 s)`,
    );
    console.log(processorCommitLine(procBefore, procAfter, fullSeconds));
    console.log(pauseLine('processor', 'liftstream_processor_', procBefore, procAfter, fullSeconds));
    console.log(sinkAgeLine(before, after));
    if (stop.signal.aborted) return null;

    // 3. Drain.
    const drained = await drain(t);
    console.log(
      drained === null ? 'drain: did NOT catch up in time' : `drain: caught up in ${drained.toFixed(0)} s`,
    );
    if (stop.signal.aborted) return null;

    // 4. Half rate.
    const halfRate = (maxRateForHalf ?? maxRate) / 2;
    const halfTally = new Tally();
    before = await scrapeMetrics(`${p.statsUrl}/metrics`);
    procPhaseBefore = await scrapeProcessor(t);
    const halfStarted = Date.now();
    await load({
      pipeline: p,
      trafficRate: halfRate,
      probeRate: HALF_PROBE_RATE,
      seconds: HALF_S,
      source,
      probe,
      tally: halfTally,
    });
    const halfSeconds = (Date.now() - halfStarted) / 1000;
    const procHalfAfter = await scrapeProcessor(t);
    await waitVisible(probe);
    const halfAfter = await scrapeMetrics(`${p.statsUrl}/metrics`);
    const half = freshnessSamples(
      probe.probes,
      watcher.times,
      (n) => n >= idleProbes && (probe?.probes[n]?.sentAt ?? 0) >= halfStarted + HALF_WARMUP_S * 1000,
    );
    console.log(
      `half rate: ${Math.round(halfRate).toLocaleString('en-US')} events/s offered (half of ${Math.round(maxRateForHalf ?? maxRate).toLocaleString('en-US')}, ` +
        `${maxRateForHalf === null ? "this setting's full-load phase" : NAMED_MAX_RATE !== null ? '--max-rate' : "the first setting's full-load phase"}) ` +
        `+ ${HALF_PROBE_RATE} probe/s for ${halfSeconds.toFixed(0)} s, ${Math.round(halfTally.eventsAccepted / halfSeconds).toLocaleString('en-US')} acknowledged events/s; ${halfTally.errors()}`,
    );
    console.log(
      freshnessVerdict(`half-rate freshness (probes after ${HALF_WARMUP_S} s)`, half.samples, HALF_BAR_MS),
    );
    for (const line of splitLines(half.samples, half.incomplete)) console.log(line);
    console.log(sinkAgeLine(before, halfAfter));
    console.log('  sink during the phase:');
    for (const line of sinkBatchingLines(sinkBatching(before, halfAfter, halfSeconds))) console.log(line);
    console.log(processorCommitLine(procPhaseBefore, procHalfAfter, halfSeconds));
    console.log(pauseLine('processor', 'liftstream_processor_', procPhaseBefore, procHalfAfter, halfSeconds));
    console.log(pauseLine('stats (with the sink)', 'liftstream_stats_', before, halfAfter, halfSeconds));
    for (const s of ['gateway', 'processor', 'stats'] as const) {
      const problems = logProblems(p.services[s].logFile);
      console.log(`  ${s} log: ${problems.warnings} warnings, ${problems.errors} errors`);
      for (const m of problems.messages.slice(0, 3)) console.log(`    ${m.count}× ${m.level} ${m.msg}`);
    }
    return {
      label: setting.label,
      idle: idle.samples,
      half: half.samples,
      halfRate,
      maxRate,
      saturated,
      full,
      fullParts,
      statsCpuUsPerEvent: (1e6 * cpu) / processed,
      statsCpuUsPerRow: (1e6 * cpu) / Math.max(1, rows),
    };
  } finally {
    probe?.stop();
    await watcher?.stop();
    await source?.close();
    if (pipeline !== null) {
      if (args['keep-logs']) process.env['KEEP_E2E_LOGS'] = '1';
      await pipeline.stop().catch((err: unknown) => console.error('stopping the pipeline:', err));
    }
    for (const pid of childPids(process.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await cleanUp(admin, prefix, `fresh-${runId}`);
  }
}

/** The processor's metrics, empty when its endpoint is unknown. */
async function scrapeProcessor(t: Targets): Promise<Map<string, number>> {
  return t.processorMetrics === null ? new Map<string, number>() : scrapeMetrics(t.processorMetrics);
}

async function cleanUp(a: Admin, prefix: string, groupPrefix: string): Promise<void> {
  const mine = (await a.listTopics().catch(() => [] as string[])).filter((x) => x.startsWith(prefix));
  if (mine.length > 0) await a.deleteTopics({ topics: mine }).catch(() => undefined);
  const groups = (await a.listGroups().catch(() => ({ groups: [] }))).groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(groupPrefix));
  if (groups.length > 0) await a.deleteGroups(groups).catch(() => undefined);
  const subjects = (
    await fetch(`${REGISTRY}/subjects`)
      .then((r) => r.json() as Promise<string[]>)
      .catch(() => [] as string[])
  ).filter((s) => s.startsWith(prefix));
  for (const subject of subjects) {
    const url = `${REGISTRY}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${url}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
  }
}

function ratioVerdict(value: number, base: number, lowerIsBetter: boolean): string {
  const ratio = value / base;
  const ok = lowerIsBetter ? ratio <= 1 + WITHIN : ratio >= 1 - WITHIN;
  return `${ratio.toFixed(2)}× (${ok ? 'met' : 'MISSED'})`;
}

async function main(): Promise<number> {
  await admin.connect();
  delete process.env['CLICKHOUSE_URL']; // embedded chDB, as local mode
  console.log(
    `freshness bench: settings ${SETTINGS.map((s) => s.label).join(', ')}; idle ${IDLE_S} s at ${IDLE_PROBE_RATE} probes/s; ` +
      `full load ${FULL_RATE}/s offered for ${FULL_S} s; half rate ${HALF_S} s (+${HALF_PROBE_RATE} probe/s); ${args.partitions} partitions; ` +
      `broker ${BROKERS}; ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ${new Date().toISOString()}`,
  );
  const results: SettingResult[] = [];
  let maxForHalf = NAMED_MAX_RATE;
  for (const setting of SETTINGS) {
    const result = await runSetting(setting, maxForHalf);
    if (result === null) return 130;
    results.push(result);
    maxForHalf ??= result.maxRate;
  }
  const base = results[0] as SettingResult;
  console.log(
    `\n=== summary (${new Date().toISOString()}; full-load figures beside the first setting, ${base.label}) ===`,
  );
  for (const r of results) {
    const q = (s: FreshnessSample[]) => stageQuantiles(s, 'total');
    const [i50, , i99] = q(r.idle);
    const [h50, , h99] = q(r.half);
    const inserts = (r.full.inserts['all'] as number) / r.full.seconds;
    const perInsert = (r.full.rows['all'] as number) / Math.max(1, r.full.inserts['all'] as number);
    const parts = r.full.parts['all'] as number;
    const meanParts = r.fullParts.mean;
    const baseInserts = (base.full.inserts['all'] as number) / base.full.seconds;
    const basePerInsert = (base.full.rows['all'] as number) / Math.max(1, base.full.inserts['all'] as number);
    console.log(
      `${r.label.padEnd(16)} idle p50/p99 ${ms(i50)}/${ms(i99)} ms (${i99 !== undefined && i99 < IDLE_BAR_MS && r.idle.length > 0 ? 'met' : 'MISSED'}, bar < ${IDLE_BAR_MS}); ` +
        `half rate ${Math.round(r.halfRate)}/s p50/p99 ${ms(h50)}/${ms(h99)} ms (${h99 !== undefined && h99 < HALF_BAR_MS && r.half.length > 0 ? 'met' : 'MISSED'}, bar < ${HALF_BAR_MS}); ` +
        `full load: max rate ${Math.round(r.maxRate)}/s${r.saturated ? '' : ' (not saturated)'}, ` +
        `${inserts.toFixed(1)} inserts/s, ${perInsert.toFixed(1)} rows/insert, active parts mean ${meanParts.toFixed(1)} (${ms(parts)} at the end), ` +
        `stats CPU ${r.statsCpuUsPerEvent.toFixed(1)} µs/event` +
        (r === base
          ? ' (baseline)'
          : `; vs baseline: inserts/s ${ratioVerdict(inserts, baseInserts, true)}, rows/insert ${ratioVerdict(perInsert, basePerInsert, false)}, ` +
            `active parts (mean) ${ratioVerdict(meanParts, base.fullParts.mean, true)}, at the end ${(parts / (base.full.parts['all'] as number)).toFixed(2)}×, CPU/event ${ratioVerdict(r.statsCpuUsPerEvent, base.statsCpuUsPerEvent, true)}`),
    );
  }
  return 0;
}

main()
  .then(
    (code) => code,
    (err: unknown) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    await admin.disconnect().catch(() => undefined);
    process.exit(code);
  });

/**
 * Lowers the CPU priority of every thread of `pid` (Linux: nice is per thread; threads started later inherit
 * it from the thread that starts them). The `@nice` of a setting: the stats process (sink, embedded
 * ClickHouse, API) yields the CPU to the gateway, processor and broker when they compete for it.
 */
function niceAllThreads(pid: number, nice: number): number {
  const threads = fs.readdirSync(`/proc/${pid}/task`).map(Number);
  for (const tid of threads) os.setPriority(tid, nice);
  return threads.length;
}
