/**
 * Stream processor benchmark (not a test): throughput from a cold start through identity +
 * attribution + the public output topics, compared with the same broker's raw consume rate, then
 * state restore time and memory per million units.
 *
 *   npx tsx bench/processor-bench.ts [--events 300000] [--units 100000] [--restore-units 1000000]
 *                                    [--partitions 8] [--instances 1] [--skip-kafka-perf] [--keep-topics]
 *                                    [--cpu-prof] [--latency-rate 3000] [--latency-seconds 15] [--cuped]
 *                                    [--skip-kafka-streams]
 *
 * Env: KAFKA_BROKERS (127.0.0.1:9092), SCHEMA_REGISTRY_URL (http://127.0.0.1:8081/apis/ccompat/v7),
 * KAFKA_STREAMS_REFERENCE_DIR (../shared/anchors/kafka-streams-reference beside the repository).
 *
 * Phases, each under a fresh topic prefix (deleted at the end):
 * 1. pre-load --events ingest records (Avro, real schema): exposures and tracks over --units units,
 *    5% of anonymous units aliased to a user, retried duplicates;
 * 2. raw consume rate of that topic: Kafka's ConsumerPerformance, and a bare kafkajs consumer, both
 *    in steady state (group join excluded on both sides, as the processor's rate is timed from /readyz);
 * 3. the processor as a child process (its own core, as in production) from a cold start, until
 *    every ingest record and every repartition message is committed (read from its /metrics);
 * 3a. the Kafka Streams reference (issue 18; skipped with --skip-kafka-streams): its run.sh as is, warmed
 *    (--warmup: one unmeasured pass in the same JVM first), on the same pre-loaded ingest topic (so the same
 *    partitions), with --instances stream threads, the project's schemas/ and the bench's broker and registry;
 *    its events/s and events per CPU-second (from its RUNNING state to done, its own clock) beside phase 3's,
 *    the broker's CPU over its measured pass, the ratios liftstream / kafka-streams and issue 18's verdicts
 *    (>= 30,000 events/s, >= 1.0x both ratios). Phase 3's processors stay up, idle (phase 3c needs their
 *    state); their CPU meanwhile is printed. A failed Maven build (e.g. a dependency that cannot be
 *    downloaded into ~/.m2) or run is printed with its reason and the bench carries on without the comparison;
 * 3b. with --cuped: the same events again under a second prefix, processed with a CUPED metric on purchase:
 *    events/s and per CPU-second with and without covariate rows (issue 16);
 * 3c. freshness (after 3a: it adds records to the ingest topic): with the state of phase 3 loaded,
 *    exposures of new units at --latency-rate events/s for --latency-seconds; each one's exposure row is
 *    read back (read_committed) and its age is taken from its event time (set to the send time): ingest
 *    produce → committed output row;
 * 4. a graceful restart: time until ready (state restored from the changelogs);
 * 5. --restore-units synthetic unit states written straight to a units changelog, then a cold
 *    start: restore time and RSS per million units (RSS at ready minus an empty instance's).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { KAFKA_JVM_PERFORMANCE_OPTS } from '../infra/local/kafka-broker.ts';
import { kafkaHome, repoRoot } from '../infra/local/paths.ts';
import { freePort } from '../infra/local/ports.ts';
import { ensureTopics, topicNames, topicSpecs } from '../shared/kafka/topics.ts';
import { readAvsc } from '../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../shared/registry/schema-registry.ts';
import { serializeUnitState } from '../services/processor/src/domain/attribution/unit-state-codec.ts';
import type { UnitState } from '../services/processor/src/domain/attribution/unit-state.ts';
import { identityKeyOf, type IngestEvent } from '../services/processor/src/domain/ingest-event.ts';
import {
  referenceSchemasDir,
  runKafkaStreamsReference,
  type KafkaStreamsReferenceLeftovers,
} from './lib/kafka-streams-reference.ts';
import { cpuSeconds, rssAnonMb, rssMb } from './lib/process-stats.ts';
import { scrapeMetrics } from './lib/scrape-metrics.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    units: { type: 'string', default: '100000' },
    'restore-units': { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '8' },
    'skip-kafka-perf': { type: 'boolean', default: false },
    'keep-topics': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    instances: { type: 'string', default: '1' },
    'latency-rate': { type: 'string', default: '3000' },
    'latency-seconds': { type: 'string', default: '15' },
    /** Also process the same events with a CUPED metric (issue 16) and print the cost of covariate rows. */
    cuped: { type: 'boolean', default: false },
    /** Leave out the Kafka Streams reference run (phase 3a) and the comparison with it. */
    'skip-kafka-streams': { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const UNITS = Number(args.units);
const RESTORE_UNITS = Number(args['restore-units']);
const PARTITIONS = Number(args.partitions);
const INSTANCES = Number(args.instances);
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const registryUrl = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const kafka = new Kafka({
  clientId: 'processor-bench',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const registry = new AvroSchemaRegistry(registryUrl);
const admin = kafka.admin();
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-processor-bench-'));
const prefixes: string[] = [];
const children: ChildProcess[] = [];
/** Consumer groups a failed Kafka Streams reference run left behind, deleted at the end (once their sessions expire). */
const referenceGroups: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function kafkaConfig(prefix: string) {
  return { brokers: brokers.split(','), topicPrefix: prefix, partitions: PARTITIONS, replicationFactor: 1 };
}

async function createTopics(): Promise<string> {
  const prefix = `bench-${randomUUID()}.`;
  prefixes.push(prefix);
  await ensureTopics(admin, topicSpecs(kafkaConfig(prefix), 86_400_000));
  return prefix;
}

/** The bench's project; with `cuped`, a mean metric on purchase with a 14-day CUPED covariate. */
function writeProjects(cuped = false): string {
  const file = path.join(workDir, cuped ? 'projects-cuped.json' : 'projects.json');
  const metrics = cuped ? [{ id: 'revenue', type: 'mean', event: 'purchase', cuped: { days: 14 } }] : [];
  fs.writeFileSync(
    file,
    JSON.stringify({
      projects: [{ id: 'shop', keys: [{ role: 'write', sha256: '0'.repeat(63) + '1' }], metrics }],
    }),
  );
  return file;
}

/** A realistic mix: per unit 1–2 exposures, tracks before and after, some aliases and retries. */
function* ingestEvents(total: number, units: number): Generator<IngestEvent> {
  // mulberry32: a float LCG would lose precision past 2^53 and cycle over a handful of units.
  let seed = 12345;
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let x = seed;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const now = Date.now() - 3_600_000;
  let n = 0;
  const base = (u: number, ts: number, anonymous: boolean): Omit<IngestEvent, 'body'> => ({
    event_id: `e-${n}`,
    project: 'shop',
    received_at: ts,
    timestamp: ts,
    message_id: `m-${n++}`,
    user_id: anonymous ? null : `user-${u}`,
    anonymous_id: anonymous ? `anon-${u}` : null,
    context: {},
  });
  while (n < total) {
    const u = Math.floor(rand() * units);
    const anonymous = u % 3 === 0;
    const ts = now + Math.floor(rand() * 3_000_000);
    const r = rand();
    if (r < 0.3) {
      yield {
        ...base(u, ts, anonymous),
        body: {
          kind: 'exposure',
          experiment: `exp-${u % 4}`,
          variation: u % 2 === 0 ? 'control' : 'treatment',
          decision_id: null,
          properties: {},
        },
      };
    } else if (r < 0.97) {
      yield {
        ...base(u, ts, anonymous),
        body: {
          kind: 'track',
          event: rand() < 0.5 ? 'purchase' : 'page_view',
          value: Math.round(rand() * 10_000) / 100,
          decision_id: null,
          sample: 1,
        },
      };
    } else if (anonymous) {
      yield { ...base(u, ts, true), user_id: `user-${u}-known`, body: { kind: 'alias' } };
    } else {
      // A retry: same message_id as the previous event of this id space, new event_id.
      const retry = {
        ...base(u, ts, false),
        message_id: `m-${n - 2}`,
        body: { kind: 'track' as const, event: 'purchase', value: 1, decision_id: null, sample: 1 },
      };
      yield retry;
    }
  }
}

function avroValue(e: IngestEvent): Record<string, unknown> {
  const b = e.body;
  const body =
    b.kind === 'exposure'
      ? {
          'io.liftstream.ingest.Exposure': {
            experiment: b.experiment,
            variation: b.variation,
            decision_id: b.decision_id,
            properties: b.properties,
          },
        }
      : b.kind === 'track'
        ? {
            'io.liftstream.ingest.Track': {
              event: b.event,
              value: b.value,
              properties: {},
              decision_id: b.decision_id,
              sample: b.sample,
            },
          }
        : { 'io.liftstream.ingest.Alias': {} };
  return { ...e, body };
}

async function produceAll(
  producer: Producer,
  topic: string,
  records: Iterable<{ key: string; value: Buffer | string }>,
): Promise<number> {
  let batch: Array<{ key: string; value: Buffer | string }> = [];
  let count = 0;
  const inFlight: Promise<unknown>[] = [];
  for (const r of records) {
    batch.push(r);
    if (batch.length === 10_000) {
      inFlight.push(producer.sendBatch({ topicMessages: [{ topic, messages: batch }], acks: -1 }));
      count += batch.length;
      batch = [];
      if (inFlight.length >= 4) await Promise.all(inFlight.splice(0));
    }
  }
  if (batch.length > 0)
    inFlight.push(producer.sendBatch({ topicMessages: [{ topic, messages: batch }], acks: -1 }));
  count += batch.length;
  await Promise.all(inFlight);
  return count;
}

function consumerPerformance(topic: string, messages: number): string {
  if (args['skip-kafka-perf']) return 'skipped';
  const res = spawnSync(
    'java',
    [
      '-Xmx512m',
      ...KAFKA_JVM_PERFORMANCE_OPTS, // as bin/kafka-consumer-perf-test.sh would run it
      '-cp',
      path.join(kafkaHome, 'libs', '*'),
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      brokers,
      '--topic',
      topic,
      '--messages',
      String(messages),
      '--timeout',
      '60000',
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  // Output: a header line and a CSV line: start.time, end.time, data.consumed.in.MB, MB.sec,
  // data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
  // fetch.nMsg.sec leaves out the group join (rebalance.time.ms), like the other two rates here; the
  // JVM's start-up is outside its clock in any case.
  const line = res.stdout.trim().split('\n').pop() ?? '';
  const cols = line.split(',').map((c) => c.trim());
  return cols.length >= 10
    ? `${Number(cols[9]).toFixed(0)} msg/s after the group join (${cols[8]} MB/s; ${cols[6]} ms joining)`
    : `failed: ${(res.stderr || res.stdout).slice(-300)}`;
}

async function kafkajsConsumeRate(topic: string, messages: number): Promise<number> {
  const groupId = `bench-raw-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Steady state only: the clock starts at the first batch, after the group join and the first fetch,
  // and that batch is not counted; the processor's rate is likewise timed from /readyz (joined, restored).
  let seen = 0;
  let firstBatchAt = 0;
  let counted = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (firstBatchAt === 0) firstBatchAt = Date.now();
        else counted += batch.messages.length;
        if (seen >= messages) resolve();
      },
    });
  });
  const rate = counted / ((Date.now() - firstBatchAt) / 1000);
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return rate;
}

interface Child {
  proc: ChildProcess;
  port: number;
  spawnedAt: number;
}

async function startProcessor(prefix: string, projectsFile: string, name: string): Promise<Child> {
  const port = await freePort();
  const log = fs.openSync(path.join(workDir, `${name}.log`), 'a');
  const prof = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.join(workDir, `prof-${name}`)}`] : [];
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', 'services/processor/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_PREFIX: prefix,
      TOPIC_PARTITIONS: String(PARTITIONS),
      PROCESSOR_APP_ID: `bench-app-${prefix}`,
      PROJECTS_FILE: projectsFile,
      PROCESSOR_PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  children.push(proc);
  return { proc, port, spawnedAt: Date.now() };
}

function metrics(child: Child): Promise<Map<string, number>> {
  return scrapeMetrics(`http://127.0.0.1:${child.port}/metrics`);
}

async function waitReady(child: Child, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null)
      throw new Error(`processor exited with ${child.proc.exitCode}; see ${workDir}`);
    const ok = await fetch(`http://127.0.0.1:${child.port}/readyz`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return Date.now();
    await sleep(100);
  }
  throw new Error(`processor not ready after ${timeoutMs} ms; see ${workDir}`);
}

/** The shared broker's pid (a kafka.Kafka JVM), for its CPU share; undefined when not found. */
function brokerPid(): number | undefined {
  const res = spawnSync('pgrep', ['-f', 'kafka.Kafka'], { encoding: 'utf8' });
  const pids = res.stdout.trim().split('\n').filter(Boolean).map(Number);
  return pids.length === 1 ? pids[0] : undefined;
}

async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null) return;
  const gone = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}

const m = (map: Map<string, number>, key: string): number => map.get(key) ?? 0;

/** Ingest produce → committed exposure row, for exposures of fresh units sent at a fixed rate. */
async function freshness(
  topics: ReturnType<typeof topicNames>,
  encode: (value: unknown) => Buffer,
  producer: Producer,
): Promise<void> {
  const rate = Number(args['latency-rate']);
  const seconds = Number(args['latency-seconds']);
  if (rate <= 0 || seconds <= 0) return;
  const ages: number[] = [];
  const groupId = `bench-latency-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.exposures, fromBeginning: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const row = await registry.decode<{ unit: string; first_exposure_at: number; sign: number }>(
        message.value!,
      );
      if (row.sign === 1 && row.unit.startsWith('lat-')) ages.push(Date.now() - row.first_exposure_at);
    },
  });
  while (!joined) await sleep(100);
  await sleep(1_000);
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const total = perTick * Math.round((seconds * 1000) / tickMs);
  let sent = 0;
  const started = Date.now();
  while (sent < total) {
    const now = Date.now();
    const events: IngestEvent[] = [];
    for (let i = 0; i < perTick; i++, sent++) {
      events.push({
        event_id: `lat-${sent}`,
        project: 'shop',
        received_at: now,
        timestamp: now,
        message_id: `lat-${sent}`,
        user_id: `lat-${sent}`,
        anonymous_id: null,
        context: {},
        body: {
          kind: 'exposure',
          experiment: 'exp-latency',
          variation: 'control',
          decision_id: null,
          properties: {},
        },
      });
    }
    void producer.send({
      topic: topics.ingest,
      acks: -1,
      messages: events.map((e) => ({ key: identityKeyOf(e)!, value: encode(avroValue(e)) })),
    });
    const next = started + (sent / perTick) * tickMs;
    await sleep(Math.max(0, next - Date.now()));
  }
  const deadline = Date.now() + 30_000;
  while (ages.length < total && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  ages.sort((a, b) => a - b);
  const q = (p: number): number => ages[Math.min(ages.length - 1, Math.floor(p * ages.length))] ?? NaN;
  console.log(
    `freshness at ${rate} events/s for ${seconds} s: ${ages.length}/${total} exposure rows back; ` +
      `ingest produce → committed output row p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${ages[ages.length - 1] ?? NaN} ms`,
  );
}

/**
 * Phase 3: the processor (--instances processes in one group share the partitions) from a cold start over the
 * pre-loaded `loaded` records under `prefix`, until every ingest record and repartition message is committed.
 */
async function processFromColdStart(
  prefix: string,
  projectsFile: string,
  loaded: number,
  kafkajsRate: number,
  label: string,
): Promise<{
  group: Child[];
  emptyRss: number;
  emptyAnon: number;
  rate: number;
  perCpuSecond: number;
  /** The broker's CPU seconds from ready to done; NaN when the broker's pid was not found. */
  brokerCpu: number;
}> {
  const group = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startProcessor(prefix, projectsFile, `${label}-${i}`)),
  );
  const child = group[0]!;
  const readyAt = Math.max(...(await Promise.all(group.map((c) => waitReady(c, 120_000)))));
  const emptyRss = rssMb(child.proc.pid!);
  const emptyAnon = rssAnonMb(child.proc.pid!);
  const broker = brokerPid();
  const cpuBefore = group.reduce((sum, c) => sum + cpuSeconds(c.proc.pid!), 0);
  const brokerCpuBefore = broker === undefined ? 0 : cpuSeconds(broker);
  let peakRss = 0;
  let done = false;
  let last = new Map<string, number>();
  while (!done) {
    await sleep(250);
    const all = await Promise.all(group.map((c) => metrics(c)));
    last = new Map();
    for (const one of all) for (const [k, v] of one) last.set(k, (last.get(k) ?? 0) + v);
    peakRss = Math.max(
      peakRss,
      group.reduce((sum, c) => sum + rssMb(c.proc.pid!), 0),
    );
    const identityIn = m(last, 'liftstream_processor_records_in_total{stage="identity"}');
    const unitsIn = m(last, 'liftstream_processor_records_in_total{stage="units"}');
    // Every unit message sent, produced or processed in place by its own task (tasks per partition:
    // unitsIn counts both), must be read: without the in-place ones, done came while produced unit
    // messages still waited.
    const unitsSent = ['identity', 'units']
      .map(
        (stage) =>
          m(last, `liftstream_processor_records_out_total{stage="${stage}",topic="units"}`) +
          m(last, `liftstream_processor_records_in_place_total{stage="${stage}"}`),
      )
      .reduce((a, b) => a + b, 0);
    done = identityIn >= loaded && unitsIn >= unitsSent;
    if (Date.now() - readyAt > 600_000) throw new Error('processing did not finish within 10 minutes');
  }
  const doneAt = Date.now();
  const cpuUsed = group.reduce((sum, c) => sum + cpuSeconds(c.proc.pid!), 0) - cpuBefore;
  const brokerCpu = broker === undefined ? NaN : cpuSeconds(broker) - brokerCpuBefore;
  const seconds = (doneAt - readyAt) / 1000;
  const rate = loaded / seconds;
  const exposures = m(last, 'liftstream_processor_records_out_total{stage="units",topic="exposures"}');
  const attributed = m(last, 'liftstream_processor_records_out_total{stage="units",topic="attributed"}');
  const covariates = m(last, 'liftstream_processor_records_out_total{stage="units",topic="covariates"}');
  console.log(
    `${label}: processed ${loaded} events with ${INSTANCES} instance(s) in ${seconds.toFixed(1)} s after ready (start-up ${((readyAt - child.spawnedAt) / 1000).toFixed(1)} s): ` +
      `${rate.toFixed(0)} events/s = ${((100 * rate) / kafkajsRate).toFixed(0)}% of the bare kafkajs consumer`,
  );
  console.log(
    `  CPU: processor ${cpuUsed.toFixed(1)} s (${(loaded / cpuUsed).toFixed(0)} events per processor CPU-second, ` +
      `${((100 * cpuUsed) / seconds).toFixed(0)}% of one core), broker ${brokerCpu.toFixed(1)} s; load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `  outputs: ${exposures} exposure rows, ${attributed} attributed rows, ` +
      `${covariates} covariate rows, ` +
      `${m(last, 'liftstream_processor_corrections_total{kind="exposure"}') + m(last, 'liftstream_processor_corrections_total{kind="attributed"}') + m(last, 'liftstream_processor_corrections_total{kind="covariate"}')} corrections, ` +
      `${m(last, 'liftstream_processor_duplicates_dropped_total')} duplicates dropped; ` +
      `transactions ${m(last, 'liftstream_processor_transactions_total{stage="identity",result="commit"}') + m(last, 'liftstream_processor_transactions_total{stage="units",result="commit"}')} committed; ` +
      `state ${m(last, 'liftstream_processor_state_keys{store="units"}')} units, ${m(last, 'liftstream_processor_state_keys{store="identity"}')} identities; peak RSS ${peakRss.toFixed(0)} MB (all instances)`,
  );

  return { group, emptyRss, emptyAnon, rate, perCpuSecond: loaded / cpuUsed, brokerCpu };
}

/** Issue 18's throughput bar, events/s (with exactly-once, on this machine). */
const ISSUE_18_RATE = 30_000;

/**
 * Phase 3a: the Kafka Streams reference, warmed, over the same pre-loaded ingest topic with as many stream threads
 * as liftstream had instances, printed beside phase 3's figures and the raw consume rate, with the ratios and
 * issue 18's verdicts. Without figures from the reference (skipped, or its build or run failed) the ratios are
 * "not measured", never estimated.
 */
async function compareWithKafkaStreams(
  ingestTopic: string,
  group: Child[],
  rawConsume: string,
  liftstream: { rate: number; perCpuSecond: number; brokerCpu: number },
): Promise<void> {
  const threads = `${INSTANCES} thread${INSTANCES === 1 ? '' : 's'}`;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const rateVerdict = `>= 30,000 events/s: ${verdict(liftstream.rate >= ISSUE_18_RATE)} (${liftstream.rate.toFixed(0)})`;
  const liftstreamLine =
    `liftstream (${INSTANCES} instance${INSTANCES === 1 ? '' : 's'}, cold start): ${liftstream.rate.toFixed(0)} events/s, ` +
    `${liftstream.perCpuSecond.toFixed(0)} events per processor CPU-second, broker ${liftstream.brokerCpu.toFixed(1)} CPU-s`;
  if (args['skip-kafka-streams']) {
    console.log(`issue 18: ${rateVerdict}; liftstream / kafka-streams not measured (--skip-kafka-streams)`);
    return;
  }
  const dir =
    process.env['KAFKA_STREAMS_REFERENCE_DIR'] ??
    path.join(repoRoot, '..', 'shared', 'anchors', 'kafka-streams-reference');
  const runScript = path.join(dir, 'run.sh');
  const broker = brokerPid();
  const schemasDir = referenceSchemasDir(dir, path.join(repoRoot, 'schemas'));
  console.log(
    `kafka-streams reference: ${runScript} ${ingestTopic} ${INSTANCES} --warmup --schemas ${schemasDir} ` +
      `(Maven build, a warm-up pass, the measured pass, its clean-up; phase 3's processors idle meanwhile); ` +
      `schemas: the project's ingest-event.avsc, the reference's own output schemas (it does not fill ` +
      `unit-exposure.dimensions, which the project's has since issue 15)`,
  );
  const outcome = await runKafkaStreamsReference({
    runScript,
    topic: ingestTopic,
    threads: INSTANCES,
    schemasDir,
    bootstrap: brokers,
    registryUrl,
    samplers: {
      ...(broker === undefined ? {} : { broker: () => cpuSeconds(broker) }),
      liftstream: () => group.reduce((sum, c) => sum + cpuSeconds(c.proc.pid!), 0),
    },
  });
  if (!outcome.ok) {
    await cleanUpReference(outcome.leftovers);
    console.log(
      `kafka-streams reference (warmed, ${threads}): no figures: ${outcome.stage} failed: ${outcome.reason}`,
    );
    console.log(rawConsume);
    console.log(liftstreamLine);
    console.log(
      `issue 18: ${rateVerdict}; liftstream / kafka-streams not measured (the reference gave no figures)`,
    );
    return;
  }
  const ks = outcome.result;
  const perSecond = liftstream.rate / ks.eventsPerSecond;
  const perCpu = liftstream.perCpuSecond / ks.eventsPerCpuSecond;
  const fixed = (v: number | undefined): string =>
    v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(1);
  console.log(rawConsume);
  console.log(liftstreamLine);
  console.log(
    `kafka-streams reference (warmed, ${threads}): ${ks.eventsPerSecond.toFixed(0)} events/s, ` +
      `${ks.eventsPerCpuSecond.toFixed(0)} events per CPU-second, broker ${fixed(ks.brokerCpuSeconds)} CPU-s ` +
      `(${ks.events} events in ${ks.seconds.toFixed(1)} s, ${ks.cpuSeconds.toFixed(1)} CPU-s, RUNNING to done)`,
  );
  for (const line of ks.details) console.log(`  ${line}`);
  console.log(
    `  read by this bench over its measured pass (start-up included): broker ${fixed(ks.sampled['broker'])} CPU-s, ` +
      `phase 3's idle processors ${fixed(ks.sampled['liftstream'])} CPU-s; log ${ks.logFile ?? 'n/a'}`,
  );
  console.log(
    `liftstream / kafka-streams: ${perSecond.toFixed(2)}x events/s, ${perCpu.toFixed(2)}x events per CPU-second`,
  );
  console.log(
    `issue 18 (same ${threads}): ${rateVerdict}; >= 1.0x kafka-streams events/s: ${verdict(perSecond >= 1)} ` +
      `(${perSecond.toFixed(2)}x); >= 1.0x kafka-streams events per CPU-second: ${verdict(perCpu >= 1)} (${perCpu.toFixed(2)}x)`,
  );
}

/**
 * What a failed reference run left on the shared broker and registry: its topics go with the bench's own at the
 * end, its groups too (their members' sessions must expire first), its subjects and state folder now.
 */
async function cleanUpReference(leftovers: KafkaStreamsReferenceLeftovers): Promise<void> {
  for (const id of leftovers.appIds) {
    prefixes.push(`${id}.`, `${id}-`);
    referenceGroups.push(id);
    for (const topic of ['exposures', 'attributed'])
      for (const suffix of ['', '?permanent=true'])
        await fetch(`${registryUrl}/subjects/${id}.${topic}-value${suffix}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(5_000),
        }).catch(() => undefined);
  }
  for (const dir of leftovers.stateDirs)
    if (path.basename(dir).startsWith('ksref-state-')) fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await admin.connect();
  const projectsFile = writeProjects();
  console.log(
    `processor bench: ${EVENTS} events over ${UNITS} units, ${PARTITIONS} partitions, broker ${brokers}, ${os.cpus().length} cores`,
  );

  // 1. Pre-load.
  const prefix = await createTopics();
  const topics = topicNames(prefix);
  const ingestSchema = await registry.register(`${topics.ingest}-value`, readAvsc('ingest-event'));
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let t = Date.now();
  function* ingestRecords() {
    for (const e of ingestEvents(EVENTS, UNITS))
      yield { key: identityKeyOf(e)!, value: ingestSchema.encode(avroValue(e)) };
  }
  const loaded = await produceAll(producer, topics.ingest, ingestRecords());
  console.log(`pre-loaded ${loaded} ingest records in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 2. Raw consume rates.
  const perf = consumerPerformance(topics.ingest, loaded);
  const kafkajsRate = await kafkajsConsumeRate(topics.ingest, loaded);
  const rawConsume = `raw consume: ConsumerPerformance ${perf}; bare kafkajs consumer ${kafkajsRate.toFixed(0)} msg/s after its first batch`;
  console.log(rawConsume);

  // 3. Processing from a cold start.
  const { group, emptyRss, emptyAnon, rate, perCpuSecond, brokerCpu } = await processFromColdStart(
    prefix,
    projectsFile,
    loaded,
    kafkajsRate,
    'process',
  );
  // 3a. The Kafka Streams reference on the same topic (before 3c adds records to it).
  await compareWithKafkaStreams(topics.ingest, group, rawConsume, { rate, perCpuSecond, brokerCpu });
  // 3b. The cost of CUPED covariate emission (issue 16): the same events under a second prefix, processed
  // with a CUPED metric on purchase (every pre-exposure purchase becomes a covariate row), same run.
  if (args.cuped) {
    const cupedPrefix = await createTopics();
    const cupedTopics = topicNames(cupedPrefix);
    const cupedSchema = await registry.register(`${cupedTopics.ingest}-value`, readAvsc('ingest-event'));
    const copied = await produceAll(
      producer,
      cupedTopics.ingest,
      (function* () {
        for (const e of ingestEvents(EVENTS, UNITS))
          yield { key: identityKeyOf(e)!, value: cupedSchema.encode(avroValue(e)) };
      })(),
    );
    const cuped = await processFromColdStart(cupedPrefix, writeProjects(true), copied, kafkajsRate, 'cuped');
    await Promise.all(cuped.group.map((c) => stopChild(c)));
    console.log(
      `CUPED covariate emission: ${cuped.rate.toFixed(0)} vs ${rate.toFixed(0)} events/s without (` +
        `${(cuped.rate / rate).toFixed(2)}x), ${cuped.perCpuSecond.toFixed(0)} vs ${perCpuSecond.toFixed(0)} events per ` +
        `processor CPU-second (${(cuped.perCpuSecond / perCpuSecond).toFixed(2)}x)`,
    );
  }

  // 3c. Freshness at a fixed rate.
  await freshness(topics, ingestSchema.encode, producer);

  // 4. Graceful restart: restore of the state just built.
  await Promise.all(group.map((c) => stopChild(c)));
  const again = await startProcessor(prefix, projectsFile, 'restart');
  const againReady = await waitReady(again, 300_000);
  const restored = await metrics(again);
  console.log(
    `restart: ready in ${((againReady - again.spawnedAt) / 1000).toFixed(1)} s, restored ` +
      `${m(restored, 'liftstream_processor_restored_records_total')} changelog records ` +
      `(${m(restored, 'liftstream_processor_state_keys{store="units"}')} units, ${m(restored, 'liftstream_processor_state_keys{store="identity"}')} identities)`,
  );
  await stopChild(again);

  // 5. Large restore.
  if (RESTORE_UNITS > 0) {
    const big = await createTopics();
    const bigTopics = topicNames(big);
    const now = Date.now() - 3_600_000;
    function* unitStates() {
      for (let u = 0; u < RESTORE_UNITS; u++) {
        const state: UnitState = {
          kind: 'live',
          mode: 'cumulative',
          content: {
            exposures: [
              {
                experiment: `exp-${u % 4}`,
                first_exposure_at: now + u,
                variation: u % 2 ? 'treatment' : 'control',
                multiple_exposure: false,
                decision_ids: [],
                dimensions: {},
              },
            ],
            tracks: [0, 1].map((i) => ({
              kind: 'track' as const,
              event_id: `${randomUUID()}`,
              timestamp: now + u + 1000 * (i + 1),
              event: 'purchase',
              value: 12.5,
              weight: 1,
              decision_id: null,
            })),
          },
        };
        yield { key: `shop/user-${u}`, value: serializeUnitState(state) };
      }
    }
    t = Date.now();
    const written = await produceAll(producer, bigTopics.unitsChangelog, unitStates());
    const bytes = serializeUnitState({
      kind: 'live',
      mode: 'cumulative',
      content: { exposures: [], tracks: [] },
    }).length;
    console.log(
      `wrote ${written} unit states to the units changelog in ${((Date.now() - t) / 1000).toFixed(1)} s (empty state ${bytes} B; these ~330 B each)`,
    );
    const cold = await startProcessor(big, projectsFile, 'restore');
    const coldReady = await waitReady(cold, 600_000);
    const after = await metrics(cold);
    const restoreSeconds = m(after, 'liftstream_processor_restore_seconds_sum');
    const rss = rssMb(cold.proc.pid!);
    const anon = rssAnonMb(cold.proc.pid!);
    const heapMb = m(after, 'liftstream_processor_nodejs_heap_size_used_bytes') / 1024 / 1024;
    const units = m(after, 'liftstream_processor_state_keys{store="units"}');
    console.log(
      `restore of ${units} units: ${restoreSeconds.toFixed(1)} s in the restore (ready ${((coldReady - cold.spawnedAt) / 1000).toFixed(1)} s after spawn); ` +
        `RSS ${rss.toFixed(0)} MB vs ${emptyRss.toFixed(0)} MB empty: ${((rss - emptyRss) / (units / 1e6)).toFixed(0)} MB per million units ` +
        `(anonymous RSS ${anon.toFixed(0)} MB vs ${emptyAnon.toFixed(0)} MB: ${((anon - emptyAnon) / (units / 1e6)).toFixed(0)} MB per million units; ` +
        `V8 heap in use ${heapMb.toFixed(0)} MB; STATE_STORE=${process.env['STATE_STORE'] ?? 'disk'})`,
    );
    await stopChild(cold);
  }
  await producer.disconnect();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    // A failed run must not leave processors behind (they would spin on deleted topics).
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (!args['keep-topics']) {
      const all = await admin.listTopics().catch(() => [] as string[]);
      const mine = all.filter((t) => prefixes.some((p) => t.startsWith(p)));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    }
    if (referenceGroups.length > 0) await admin.deleteGroups(referenceGroups).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    console.log(`logs: ${workDir}`);
  });
