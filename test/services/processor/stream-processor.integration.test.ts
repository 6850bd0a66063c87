import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadProcessorConfig } from '../../../services/processor/src/config.ts';
import { StreamProcessor } from '../../../services/processor/src/stream-processor.ts';
import type { IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import {
  AvroSchemaRegistry,
  deleteTopics,
  eventually,
  IngestProducer,
  OutputReader,
  randomPrefix,
  sortRows,
  step,
  testKafka,
  writeProjectsFile,
  type SummedRows,
} from '../../helpers/processor/kafka-harness.ts';
import { referenceRows } from '../../helpers/processor/reference-attribution.ts';
import { generateScenario, SCENARIO_DIMENSIONS } from '../../helpers/processor/scenario.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../helpers/processor/builders.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const modeOf = (project: string): 'cumulative' | 'decision' => (project === 'pd' ? 'decision' : 'cumulative');
// Both projects declare the dimensions the scenarios have values for, so rows carry them through Kafka too.
const dimensionsOf = (): readonly string[] => SCENARIO_DIMENSIONS;

function matches(snapshot: SummedRows, truth: ReturnType<typeof referenceRows>): boolean {
  return (
    snapshot.exposures.length === truth.exposures.length &&
    snapshot.attributed.length === truth.attributed.length &&
    JSON.stringify(sortRows(snapshot.exposures)) === JSON.stringify(sortRows(truth.exposures)) &&
    JSON.stringify(sortRows(snapshot.attributed)) === JSON.stringify(sortRows(truth.attributed))
  );
}

describe('stream processor through the real broker', () => {
  const prefix = randomPrefix();
  const projectsFile = writeProjectsFile(SCENARIO_DIMENSIONS);
  const kafka = testKafka(brokers);
  const registry = new AvroSchemaRegistry(registryUrl);
  const admin = kafka.admin();
  let processor: StreamProcessor;
  let ingest: IngestProducer;
  let reader: OutputReader;
  const sent: IngestEvent[] = [];

  const startProcessor = async (
    overrides: Record<string, string> = {},
    now?: () => number,
  ): Promise<StreamProcessor> => {
    const config = loadProcessorConfig({
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_PREFIX: prefix,
      TOPIC_PARTITIONS: '3',
      PROCESSOR_APP_ID: `test-app-${prefix}`,
      PROJECTS_FILE: projectsFile,
      LOG_LEVEL: 'warn',
      MAX_RECORDS_PER_TRANSACTION: '300',
      ...overrides,
    });
    const logger = createLogger('processor-test', 'warn');
    const p = new StreamProcessor({
      config,
      kafka: testKafka(brokers),
      registry,
      catalog: loadProjectCatalog(config.projectsFile),
      logger,
      ...(now === undefined ? {} : { now }),
    });
    await p.start();
    return p;
  };

  const send = async (events: IngestEvent[]): Promise<void> => {
    sent.push(...events);
    await ingest.send(events);
  };

  const expectTruth = async (what: string, timeoutMs = 60_000): Promise<void> => {
    const truth = referenceRows(sent, modeOf, dimensionsOf);
    const converged = await eventually(() => matches(reader.snapshot(), truth), timeoutMs);
    const snapshot = reader.snapshot();
    expect(snapshot.violations, 'no row ever sums outside {0, 1}').toEqual([]);
    expect(converged, `${what}: outputs converge to the batch reference`).toBe(true);
    expect(sortRows(snapshot.exposures), `${what}: exposures`).toEqual(sortRows(truth.exposures));
    expect(sortRows(snapshot.attributed), `${what}: attributed`).toEqual(sortRows(truth.attributed));
  };

  beforeAll(async () => {
    await admin.connect();
    processor = await startProcessor();
    ingest = new IngestProducer(kafka, registry, `${prefix}ingest`);
    await ingest.connect();
    reader = new OutputReader(kafka, registryUrl, prefix);
    await reader.start();
  });

  afterAll(async () => {
    await reader?.stop();
    await ingest?.disconnect();
    await processor?.stop();
    await deleteTopics(admin, prefix);
    await admin.disconnect();
  });

  it('handles the tricky cases: conversions before exposure, alias after conversions, conflicting variation', async () => {
    const t = Date.now() - 600_000;
    await send([
      // u1: converts before and after exposure.
      ingestTrack({ id: 'u1-t-before', user: 'u1', ts: t, messageId: 'u1-1' }),
      ingestExposure({ id: 'u1-x', user: 'u1', ts: t + 10, variation: 'A', messageId: 'u1-2' }),
      ingestTrack({ id: 'u1-t-after', user: 'u1', ts: t + 20, value: 9.5, messageId: 'u1-3' }),
      // a retry of u1's last track: same message_id, dropped.
      ingestTrack({ id: 'u1-t-retry', user: 'u1', ts: t + 20, value: 9.5, messageId: 'u1-3' }),
      // anon a1 converts, then is aliased to u2 who was exposed earlier.
      ingestTrack({ id: 'a1-t', anon: 'a1', ts: t + 30, messageId: 'a1-1' }),
      ingestExposure({ id: 'u2-x', user: 'u2', ts: t + 5, variation: 'B', messageId: 'u2-1' }),
      ingestAlias({ id: 'a1-alias', anon: 'a1', user: 'u2', ts: t + 40, messageId: 'a1-2' }),
      // anon a3 exposed to A, user u3 exposed to B: the alias makes u3 multiple-exposure.
      ingestExposure({ id: 'a3-x', anon: 'a3', ts: t + 1, variation: 'A', messageId: 'a3-1' }),
      ingestExposure({ id: 'u3-x', user: 'u3', ts: t + 2, variation: 'B', messageId: 'u3-1' }),
      ingestTrack({ id: 'u3-t', user: 'u3', ts: t + 50, messageId: 'u3-2' }),
      ingestAlias({ id: 'a3-alias', anon: 'a3', user: 'u3', ts: t + 60, messageId: 'a3-2' }),
    ]);
    await expectTruth('tricky cases');
    const rows = reader.snapshot();
    expect(
      rows.attributed.map((r) => r.event_id).sort(),
      'only tracks at or after first exposure of analysed units count',
    ).toEqual(['a1-t', 'u1-t-after']);
    expect(rows.exposures.find((r) => r.unit === 'u3')?.multiple_exposure, 'conflicting variation').toBe(
      true,
    );
  });

  it('converges to the batch reference on a random stream of a few hundred units', async () => {
    await send(generateScenario({ units: 300, seed: 7, nowMs: Date.now() }));
    await send(generateScenario({ units: 100, seed: 8, nowMs: Date.now(), project: 'pd' }));
    await expectTruth('random stream');
  });

  it('after a restart, state restored from the changelogs: an exposure before, a conversion after', async () => {
    const t = Date.now() - 300_000;
    await send([
      ingestExposure({
        id: `r-x-${randomUUID()}`,
        user: 'restarter',
        ts: t,
        variation: 'B',
        messageId: 'r-1',
      }),
    ]);
    await expectTruth('before restart');
    await processor.stop();
    processor = await startProcessor();
    const conversion = ingestTrack({
      id: `r-t-${randomUUID()}`,
      user: 'restarter',
      ts: t + 1000,
      messageId: 'r-2',
    });
    // A retry of an event accepted before the restart must still be a duplicate.
    const retry = ingestExposure({
      id: `r-x-retry-${randomUUID()}`,
      user: 'restarter',
      ts: t,
      variation: 'A',
      messageId: 'r-1',
    });
    await send([conversion, retry]);
    await expectTruth('after restart');
    expect(
      reader.snapshot().attributed.some((r) => r.event_id === conversion.event_id && r.variation === 'B'),
      'the conversion after the restart is attributed to the exposure from before it',
    ).toBe(true);
  });

  it('applies a cuped added to the catalogue to stored units that get no new event (the eviction sweep)', async () => {
    const t = Date.now() - 120_000;
    const pre = ingestTrack({
      id: `cq-t-${randomUUID()}`,
      user: 'cuped-quiet',
      ts: t - 1_000,
      value: 7,
      messageId: 'cq-1',
    });
    await send([
      pre,
      ingestExposure({ id: `cq-x-${randomUUID()}`, user: 'cuped-quiet', ts: t, messageId: 'cq-2' }),
    ]);
    await expectTruth('before cuped');
    expect(reader.snapshot().covariates, 'no CUPED metric yet: no covariate rows').toEqual([]);

    await processor.stop();
    const cupedFile = writeProjectsFile(SCENARIO_DIMENSIONS, [
      { id: 'revenue', type: 'mean', event: 'buy', cuped: { days: 1 } },
    ]);
    processor = await startProcessor({
      PROJECTS_FILE: cupedFile,
      EVICTION_INTERVAL_MS: '1',
      EVICTION_KEYS_PER_TRANSACTION: '100000',
    });
    // Traffic of other units on every partition lets each task's sweep run; cuped-quiet gets nothing.
    await send(
      Array.from({ length: 12 }, (_, i) =>
        ingestTrack({
          id: `cq-o-${i}-${randomUUID()}`,
          user: `cuped-other-${i}`,
          ts: Date.now(),
          messageId: `cq-o-${i}`,
        }),
      ),
    );
    const lookback = (project: string): Record<string, number> =>
      project === 'p' ? { buy: 86_400_000 } : {};
    const truth = referenceRows(sent, modeOf, dimensionsOf, lookback);
    const covered = (): boolean =>
      JSON.stringify(sortRows(reader.snapshot().covariates)) === JSON.stringify(sortRows(truth.covariates));
    await eventually(covered, 60_000);
    expect(sortRows(reader.snapshot().covariates), 'covariate rows of every stored unit').toEqual(
      sortRows(truth.covariates),
    );
    expect(
      reader
        .snapshot()
        .covariates.filter((r) => r.unit === 'cuped-quiet')
        .map((r) => [r.event_id, r.first_exposure_at]),
      'including the unit that got no event since the change',
    ).toEqual([[pre.event_id, t]]);
    expect(reader.snapshot().violations).toEqual([]);
  });

  it('evicts tracks and message ids past retention inside transactions: counted, and in the changelog', async () => {
    await step('stopping the previous processor', 30_000, processor.stop());
    let shiftMs = 0;
    processor = await step(
      'starting the processor with a movable clock',
      30_000,
      startProcessor({ RETENTION_DAYS: '1', EVICTION_INTERVAL_MS: '1' }, () => Date.now() + shiftMs),
    );
    const t = Date.now() - 60_000;
    const old = ingestTrack({ id: `old-${randomUUID()}`, user: 'evicted', ts: t, messageId: 'ev-1' });
    await step(
      'sending the old exposure and track',
      20_000,
      send([
        ingestExposure({ id: `ev-x-${randomUUID()}`, user: 'evicted', ts: t - 1, messageId: 'ev-0' }),
        old,
      ]),
    );
    await expectTruth('before eviction', 40_000);

    // Two days later (processor clock), a new track of the same unit: its chunk sweeps the store first.
    shiftMs = 2 * 86_400_000;
    const fresh = ingestTrack({
      id: `new-${randomUUID()}`,
      user: 'evicted',
      ts: Date.now(),
      messageId: 'ev-2',
    });
    await step('sending the new track', 20_000, send([fresh]));
    await expectTruth('after eviction: evicted rows stay final, the new track counts', 40_000);
    const counts = await processor.metrics.evictions.get();
    const byStore = Object.fromEntries(counts.values.map((v) => [v.labels.store, v.value]));
    expect(byStore.units ?? 0, 'tracks evicted (counted after commit)').toBeGreaterThanOrEqual(1);
    expect(byStore.identity ?? 0, 'message ids evicted').toBeGreaterThanOrEqual(1);

    // The changelog holds the trimmed unit: the old track is gone, the new one is there.
    const latest = new Map<string, string | null>();
    const consumer = kafka.consumer({ groupId: `test-changelog-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await step('connecting the changelog reader', 10_000, consumer.connect());
    await consumer.subscribe({ topic: `${prefix}processor.units-changelog`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void latest.set(String(message.key), message.value?.toString() ?? null),
    });
    const trimmed = await eventually(() => {
      const value = latest.get('p/evicted') ?? '';
      return value.includes(fresh.event_id) && !value.includes(old.event_id);
    }, 20_000);
    await step('disconnecting the changelog reader', 10_000, consumer.disconnect());
    expect(trimmed, 'the last changelog value of p/evicted has the new track and not the evicted one').toBe(
      true,
    );
  });
});
