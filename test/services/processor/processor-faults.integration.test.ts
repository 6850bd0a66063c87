/**
 * The processor as child processes, killed with SIGKILL: exactly-once and state hand-over must
 * hold however the process dies. Each test checks the summed output topics against the batch
 * reference of everything sent (what an uninterrupted run converges to), and that no row's
 * sign total ever leaves {0, 1}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import {
  AvroSchemaRegistry,
  deleteTopics,
  eventually,
  IngestProducer,
  OutputReader,
  randomPrefix,
  sortRows,
  testKafka,
  writeProjectsFile,
} from '../../helpers/processor/kafka-harness.ts';
import { COMMIT_PAUSED_MARKER } from '../../helpers/processor/pause-before-commit.ts';
import { metricSum, ProcessorProcess } from '../../helpers/processor/processor-process.ts';
import { referenceRows } from '../../helpers/processor/reference-attribution.ts';
import { generateScenario, prng } from '../../helpers/processor/scenario.ts';
import { ingestExposure, ingestTrack } from '../../helpers/processor/builders.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const modeOf = (project: string): 'cumulative' | 'decision' => (project === 'pd' ? 'decision' : 'cumulative');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('processor under SIGKILL (child processes)', () => {
  const kafka = testKafka(brokers);
  const registry = new AvroSchemaRegistry(registryUrl);
  const admin = kafka.admin();
  const projectsFile = writeProjectsFile();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-processor-faults-'));
  const prefixes: string[] = [];
  const children: ProcessorProcess[] = [];
  let spawned = 0;

  const setup = async (
    partitions: number,
  ): Promise<{
    prefix: string;
    env: Record<string, string>;
    ingest: IngestProducer;
    reader: OutputReader;
  }> => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const env = {
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_PREFIX: prefix,
      TOPIC_PARTITIONS: String(partitions),
      PROCESSOR_APP_ID: `test-app-${prefix}`,
      PROJECTS_FILE: projectsFile,
      LOG_LEVEL: 'info',
      MAX_RECORDS_PER_TRANSACTION: '200',
      // The broker's minimum: a killed instance's partitions move after 6 s instead of 30.
      SESSION_TIMEOUT_MS: '6000',
    };
    // The processor creates the topics; the ingest producer needs them first.
    const first = await spawn(env);
    await first.waitReady(60_000);
    const ingest = new IngestProducer(kafka, registry, `${prefix}ingest`);
    await ingest.connect();
    const reader = new OutputReader(kafka, registryUrl, prefix);
    await reader.start();
    return { prefix, env, ingest, reader };
  };

  const spawn = async (
    env: Record<string, string>,
    preload: readonly string[] = [],
  ): Promise<{ logFile: string } & ProcessorProcess> => {
    const logFile = path.join(logDir, `processor-${spawned++}.log`);
    const child = await ProcessorProcess.start(env, logFile, preload);
    children.push(child);
    return Object.assign(child, { logFile });
  };

  /** Ingest records the processor group has committed, over all partitions. */
  const committedIngest = async (env: Record<string, string>): Promise<number> => {
    const [topic] = await admin.fetchOffsets({
      groupId: env['PROCESSOR_APP_ID'] as string,
      topics: [`${env['TOPIC_PREFIX']}ingest`],
    });
    return (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };

  const expectConverged = async (reader: OutputReader, sent: IngestEvent[], what: string): Promise<void> => {
    const truth = referenceRows(sent, modeOf);
    const same = (): boolean => {
      const s = reader.snapshot();
      return (
        JSON.stringify(sortRows(s.exposures)) === JSON.stringify(sortRows(truth.exposures)) &&
        JSON.stringify(sortRows(s.attributed)) === JSON.stringify(sortRows(truth.attributed))
      );
    };
    const converged = await eventually(same, 90_000, 500);
    // Stays equal: nothing late (a duplicate transaction) arrives after convergence.
    await sleep(2_000);
    const snapshot = reader.snapshot();
    expect(snapshot.violations, `${what}: no row total outside {0, 1} (logs in ${logDir})`).toEqual([]);
    expect(converged, `${what}: outputs converge to the reference (logs in ${logDir})`).toBe(true);
    expect(sortRows(snapshot.exposures), `${what}: exposures equal the reference`).toEqual(
      sortRows(truth.exposures),
    );
    expect(sortRows(snapshot.attributed), `${what}: attributed equal the reference`).toEqual(
      sortRows(truth.attributed),
    );
  };

  beforeAll(async () => {
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(children.map((c) => c.kill9()));
    children.length = 0;
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteTopics(admin, prefix);
    await admin.disconnect();
  });

  it('SIGKILL at random points while input flows, restarted each time, gives the reference', async () => {
    const { env, ingest, reader } = await setup(3);
    const events = generateScenario({ units: 1500, seed: 42, nowMs: Date.now() });
    const rand = prng(4242);
    const slices = 40;
    const per = Math.ceil(events.length / slices);
    let feeding = true;
    const feeder = (async () => {
      for (let i = 0; i < slices; i++) {
        await ingest.send(events.slice(i * per, (i + 1) * per));
        await sleep(500);
      }
      feeding = false;
    })();
    let kills = 0;
    let killsWhileFeeding = 0;
    let current = children[0]!;
    let committedBeforeLast = 0;
    while (kills < 5) {
      if (kills === 2) {
        // One kill during start-up (joining, fencing or restoring).
        await sleep(300 + Math.floor(rand() * 1_500));
      } else {
        // The others while it processes: most likely with a transaction in flight.
        await current.waitReady(60_000);
        await sleep(200 + Math.floor(rand() * 2_500));
      }
      await current.kill9();
      kills++;
      if (feeding) killsWhileFeeding++;
      // Nothing is running now: what the group has committed on the ingest topic is final for the
      // instances killed so far, and the next one starts from exactly there.
      if (kills === 5) committedBeforeLast = await committedIngest(env);
      current = await spawn(env);
    }
    expect(killsWhileFeeding, 'most kills hit while input was flowing').toBeGreaterThanOrEqual(3);
    await feeder;
    await current.waitReady(60_000);
    await expectConverged(reader, events, `after ${kills} SIGKILLs`);
    // The identity stage reads each ingest record once: a replay of everything would be events.length.
    const identityIn = metricSum(
      await current.metrics(),
      'liftstream_processor_records_in_total{stage="identity"}',
    );
    expect(committedBeforeLast, 'the killed instances committed part of the input').toBeGreaterThan(0);
    expect(identityIn, 'the last instance read what was left after the last commit, nothing before it').toBe(
      events.length - committedBeforeLast,
    );
    await reader.stop();
    await ingest.disconnect();
  });

  it('SIGKILL during commit-interval flushes (records and offsets sent, EndTxn not yet) gives the reference', async () => {
    const { env: base, ingest, reader } = await setup(3);
    // The first instance only created the topics; the rest starts on a backlog.
    await children[0]!.kill9();
    const events = generateScenario({ units: 3000, seed: 4343, nowMs: Date.now() });
    // Small producer batches and small fetches: a transaction open for the commit interval spans
    // many fetched chunks.
    for (let i = 0; i < events.length; i += 20) await ingest.send(events.slice(i, i + 20));
    const env = {
      ...base,
      COMMIT_INTERVAL_MS: '400',
      // Bounds what each instance can commit before its kill (a transaction holds fewer than 600
      // records), so the backlog lasts for all four whatever the machine's speed: with 2,000, a
      // machine whose 4 KB fetches return within a few ms filled transactions to the cap and the
      // first two instances consumed nearly the whole input, leaving the third nothing to flush.
      MAX_RECORDS_PER_TRANSACTION: '300',
      FETCH_MAX_BYTES_PER_PARTITION: '4096',
      PAUSE_BEFORE_COMMIT_MS: '400',
    };
    const hook = ['test/helpers/processor/pause-before-commit.ts'];
    /** Ingest records covered by each commit paused so far (the hook's markers in the log). */
    const flushes = (logFile: string): number[] =>
      fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith(COMMIT_PAUSED_MARKER))
        .flatMap((line) => [...line.matchAll(/\.ingest\/\d+ covers (-?\d+)/g)].map((m) => Number(m[1])));
    const rand = prng(99);
    let biggest = 0;
    let committedBeforeLast = 0;
    for (let kill = 1; kill <= 4; kill++) {
      const current = await spawn(env, hook);
      if (kill === 4) {
        // While transactions are open (chunks processed, nothing sent yet), at a random moment.
        await current.waitReady(60_000);
        await sleep(100 + Math.floor(rand() * 600));
      } else {
        // In the pause of its n-th flush of a transaction that spans several fetches.
        const nth = 2 + Math.floor(rand() * 2);
        const spanning = (): number => flushes(current.logFile).filter((n) => n > 100).length;
        const reached = await eventually(() => spanning() >= nth, 60_000, 20);
        expect(
          reached,
          `instance ${kill} flushed ${nth} transactions of over 100 records (log ${current.logFile})`,
        ).toBe(true);
        await sleep(Math.floor(rand() * 200));
      }
      biggest = Math.max(biggest, ...flushes(current.logFile));
      await current.kill9();
      if (kill === 4) committedBeforeLast = await committedIngest(base);
    }
    const last = await spawn(env, hook);
    await last.waitReady(60_000);
    await expectConverged(reader, events, 'after 4 SIGKILLs during commit-interval flushes');
    expect(
      biggest,
      'a transaction covered many fetched chunks (fetches of 4 KB hold a few dozen records)',
    ).toBeGreaterThan(100);
    expect(committedBeforeLast, 'the killed instances committed part of the input').toBeGreaterThan(0);
    const identityIn = metricSum(
      await last.metrics(),
      'liftstream_processor_records_in_total{stage="identity"}',
    );
    expect(identityIn, 'the last instance read what was left after the last commit, nothing before it').toBe(
      events.length - committedBeforeLast,
    );
    await reader.stop();
    await ingest.disconnect();
  });

  it('two instances share the partitions; the survivor of a SIGKILL restores the other one’s state', async () => {
    const { env, ingest, reader } = await setup(4);
    const a = children[0]!;
    const b = await spawn(env);
    await b.waitReady(60_000);
    await a.waitReady(60_000);
    const t = Date.now() - 600_000;
    const users = Array.from({ length: 200 }, (_, i) => `shared-${i}`);
    const phase1 = users.map((user, i) =>
      ingestExposure({
        id: `x-${user}`,
        user,
        ts: t,
        variation: i % 2 === 0 ? 'A' : 'B',
        messageId: `x-${user}`,
      }),
    );
    await ingest.send(phase1);
    await expectConverged(reader, phase1, 'both instances running');
    expect(
      metricSum(await b.metrics(), 'liftstream_processor_records_in_total'),
      'B did its share',
    ).toBeGreaterThan(0);

    await b.kill9();
    const phase2 = users.map((user) =>
      ingestTrack({ id: `t-${user}`, user, ts: t + 1000, messageId: `t-${user}` }),
    );
    await ingest.send(phase2);
    await expectConverged(reader, [...phase1, ...phase2], 'after B was killed for good');
    const restored = metricSum(await a.metrics(), 'liftstream_processor_restored_records_total');
    expect(restored, 'A restored the changelogs of the partitions it took over').toBeGreaterThan(0);
    await reader.stop();
    await ingest.disconnect();
  });

  it('a frozen instance (SIGSTOP past the session timeout) comes back as a zombie and is fenced', async () => {
    const { env, ingest, reader } = await setup(4);
    const a = children[0]!;
    const b = await spawn(env);
    await Promise.all([a.waitReady(60_000), b.waitReady(60_000)]);
    const events = generateScenario({ units: 800, seed: 77, nowMs: Date.now() });
    const half = Math.floor(events.length / 2);
    await ingest.send(events.slice(0, half / 2));
    // Freeze A while input flows: it may hold an open transaction and stale state.
    a.pause();
    const feeding = (async () => {
      for (let i = half / 2; i < events.length; i += 200) {
        await ingest.send(events.slice(i, Math.min(i + 200, events.length)));
        await sleep(300);
      }
    })();
    // B takes A's tasks once A's session (6 s) expires, fencing A's transactional ids.
    await sleep(12_000);
    a.resume();
    await feeding;
    await expectConverged(reader, events, 'after the zombie came back');
    expect(a.running && b.running, 'both instances survived').toBe(true);
    // Everything A held was processed by B meanwhile: whatever A gets back must be restored, not
    // kept (its in-flight transactions, if any, failed as fenced).
    const restored = metricSum(await a.metrics(), 'liftstream_processor_restored_records_total');
    expect(restored, 'A restored the tasks it got back instead of trusting its stale state').toBeGreaterThan(
      0,
    );
    await reader.stop();
    await ingest.disconnect();
  });
});
