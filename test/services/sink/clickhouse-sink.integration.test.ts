/**
 * The sink against the real broker and registry and embedded ClickHouse, as one deployment's life:
 * a first run; a crash between an insert and its Kafka commit; the group's offsets reset to the start;
 * ClickHouse refusing inserts and inserts that land but are reported failed; CUPED covariates, one of
 * them retracted, and a restart from reset offsets. After each step every committed record is stored
 * exactly once, the signed tables sum to the scenario's truth, and the per-variation sums the sink
 * maintains (variation_metrics) equal the truth's.
 *
 * Each file run uses its own topic prefix, registry subjects, consumer group and ClickHouse database.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import type { RegisteredAvro } from '../../../shared/registry/schema-registry.ts';
import { startSink } from '../../../services/sink/src/clickhouse-sink.ts';
import { SINK_TABLES } from '../../../services/sink/src/sink-rows.ts';
import {
  backfillVariationMetricsIfMissing,
  rebuildVariationMetrics,
} from '../../../services/sink/src/sink-clickhouse.ts';
import type { InsertInfo, SinkConfig, SinkDeps, SinkHandle } from '../../../services/sink/src/sink-types.ts';
import { within } from '../../helpers/http-probes.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, expectedStats, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';
import type { AttributedRecord, Changelog, TruthUnit } from '../../helpers/stats/signed-rows-scenario.ts';

const PARTITIONS = 3;
const prefix = `test-${randomUUID()}.`;
const topics = topicNames(prefix);
const groupId = `${prefix}clickhouse-sink`;
const logger = createLogger('sink-test', 'silent');
const START = Date.UTC(2026, 0, 5);

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let registry: AvroSchemaRegistry;
let encoders: { exposure: RegisteredAvro; attributed: RegisteredAvro; covariate: RegisteredAvro };
let ch: ClickHouseFixture;
const running: SinkHandle[] = [];
/** Releases sinks frozen by a simulated crash, so that they can be stopped. */
const thawers: (() => void)[] = [];

/** A record of `<prefix>covariates` (schemas/covariate-event.avsc). */
interface CovariateRecord extends AttributedRecord {
  first_exposure_at: number;
}

/** Everything committed so far: the truth the tables must sum to, and how many records were committed. */
const truth: TruthUnit[] = [];
/** The covariate records that hold (each +1 not retracted). */
const liveCovariates: CovariateRecord[] = [];
const committed = { exposures: 0, attributed: 0, covariates: 0 };

const config: SinkConfig = {
  topicPrefix: prefix,
  groupId,
  batchRows: 40,
  // The default flush (adaptive): insert rounds of every partition fetched at once, paced 200 ms apart, in
  // inserts of at most 40 rows, so every step below also runs through shared and split inserts.
  flushMode: 'adaptive',
  flushIntervalMs: 200,
  fetchMinBytes: 16 * 1024,
  sessionTimeoutMs: 6_000,
  retry: { initialMs: 100, maxMs: 1_000 },
  embeddedClickHouse: true,
  concurrency: 64,
  // The production default: per-unit totals in LMDB (the heap store is covered by the unit tests).
  state: { store: 'disk', dir: path.join(os.tmpdir(), 'liftstream-sink-test-state') },
};

function start(overrides: Partial<SinkDeps> = {}, configOverrides: Partial<SinkConfig> = {}): SinkHandle {
  const sink = startSink({
    config: { ...config, embeddedClickHouse: inject('clickhouseUrl') === undefined, ...configOverrides },
    kafka,
    registry,
    clickhouse: ch.client,
    logger,
    metrics: new Registry(),
    ...overrides,
  });
  running.push(sink);
  return sink;
}

async function stop(sink: SinkHandle): Promise<void> {
  await sink.stop();
  running.splice(running.indexOf(sink), 1);
}

beforeAll(async () => {
  kafka = createKafka(
    {
      brokers: inject('kafkaBrokers').split(','),
      topicPrefix: prefix,
      partitions: PARTITIONS,
      replicationFactor: 1,
    },
    'sink-test',
    logger,
  );
  // Each step bounded and named: this hook once hung for the whole hook timeout in CI with no clue where.
  const step = <T>(what: string, promise: Promise<T>) => within(promise, 60_000, `sink test setup: ${what}`);
  admin = kafka.admin();
  await step('admin connect', admin.connect());
  await step(
    'creating topics',
    admin.createTopics({
      topics: [topics.exposures, topics.attributed, topics.covariates].map((topic) => ({
        topic,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
      })),
      waitForLeaders: true,
    }),
  );
  registry = new AvroSchemaRegistry(inject('registryUrl'));
  encoders = await step(
    'registering schemas',
    (async () => ({
      exposure: await registry.register(`${topics.exposures}-value`, readAvsc('unit-exposure')),
      attributed: await registry.register(`${topics.attributed}-value`, readAvsc('attributed-event')),
      covariate: await registry.register(`${topics.covariates}-value`, readAvsc('covariate-event')),
    }))(),
  );
  producer = kafka.producer({
    transactionalId: `${prefix}test-producer`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await step('transactional producer connect', producer.connect());
  ch = await step('opening ClickHouse', openClickHouse(inject('clickhouseUrl'), 'sink'));
});

/** Whatever a test left running (it failed half-way) must not consume the next test's records. */
afterEach(async () => {
  const stopping = running.splice(0).map((sink) => sink.stop().catch(() => undefined));
  for (const thaw of thawers.splice(0)) thaw();
  await Promise.all(stopping);
});

afterAll(async () => {
  await producer?.disconnect().catch(() => undefined);
  await admin
    ?.deleteTopics({ topics: [topics.exposures, topics.attributed, topics.covariates] })
    .catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await ch?.close();
});

/**
 * Produces a changelog in one committed transaction (as the processor does), keyed by unit, with the
 * covariate records of the same units in that transaction.
 */
async function produceCommitted(
  changelog: Changelog,
  units: readonly TruthUnit[],
  covariates: readonly CovariateRecord[] = [],
): Promise<void> {
  const tx = await producer.transaction();
  await tx.send({
    topic: topics.exposures,
    messages: changelog.exposures.map((r) => ({
      key: `${r.project}/${r.unit}`,
      value: encoders.exposure.encode(r),
    })),
  });
  await tx.send({
    topic: topics.attributed,
    messages: changelog.attributed.map((r) => ({
      key: `${r.project}/${r.unit}`,
      value: encoders.attributed.encode(r),
    })),
  });
  await tx.send({
    topic: topics.covariates,
    messages: covariates.map((r) => ({ key: `${r.project}/${r.unit}`, value: encoders.covariate.encode(r) })),
  });
  await tx.commit();
  truth.push(...units);
  committed.exposures += changelog.exposures.length;
  committed.attributed += changelog.attributed.length;
  committed.covariates += covariates.length;
  for (const r of covariates) {
    if (r.sign === 1) {
      liveCovariates.push(r);
      continue;
    }
    const asserted = liveCovariates.findIndex((c) => covariateIdentity(c) === covariateIdentity(r));
    if (asserted < 0) throw new Error(`test data: retracting ${covariateIdentity(r)}, never asserted`);
    liveCovariates.splice(asserted, 1);
  }
}

/** Every field but the sign: a −1 retracts the +1 with the same identity. */
function covariateIdentity(r: CovariateRecord): string {
  return [r.unit, r.variation, r.first_exposure_at, r.event_id, r.event, r.timestamp, r.weight, r.value].join(
    '|',
  );
}

function batch(experiment: string, seed: number, units = 120): { units: TruthUnit[]; changelog: Changelog } {
  const arms = ['control', 'a', 'b'];
  const generated = generateUnits({
    project: 'shop',
    experiment,
    arms,
    units,
    events: ['purchase', 'view'],
    start: START,
    seed,
  });
  return { units: generated, changelog: changelogOf(generated, seed + 1000, arms) };
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await probe();
  }
  return last;
}

async function select<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

interface Stored {
  rows: number;
  distinct: number;
}

async function stored(): Promise<Record<'exposures' | 'attributed' | 'covariates', Stored>> {
  const count = async (table: string) => {
    const [row] = await select<{ rows: number | string; distinct: number | string }>(
      ch.client,
      `SELECT toFloat64(count()) AS rows, toFloat64(uniqExact(src_partition, src_offset)) AS distinct FROM ${table}`,
    );
    return { rows: Number(row?.rows), distinct: Number(row?.distinct) };
  };
  return {
    exposures: await count('exposures'),
    attributed: await count('attributed'),
    covariates: await count('covariates'),
  };
}

function allStored(s: Record<'exposures' | 'attributed' | 'covariates', Stored>): boolean {
  return (
    s.exposures.rows >= committed.exposures &&
    s.attributed.rows >= committed.attributed &&
    s.covariates.rows >= committed.covariates
  );
}

/** Every committed record once, no record twice, and the signed sums equal the truth. */
async function expectExactlyTheTruth(): Promise<void> {
  const s = await stored();
  expect(s.exposures, 'each committed exposure record stored once').toEqual({
    rows: committed.exposures,
    distinct: committed.exposures,
  });
  expect(s.attributed, 'each committed attributed record stored once').toEqual({
    rows: committed.attributed,
    distinct: committed.attributed,
  });
  expect(s.covariates, 'each committed covariate record stored once').toEqual({
    rows: committed.covariates,
    distinct: committed.covariates,
  });

  const liveExposures = await select<{
    unit: string;
    variation: string;
    me: boolean | number;
    fe: number | string;
    live: number | string;
  }>(
    ch.client,
    `SELECT unit, variation, multiple_exposure AS me, toFloat64(toUnixTimestamp64Milli(first_exposure_at)) AS fe, toFloat64(sum(sign)) AS live
     FROM exposures GROUP BY unit, variation, multiple_exposure, first_exposure_at HAVING live != 0 ORDER BY unit`,
  );
  expect(
    liveExposures.map((r) => `${r.unit}|${r.variation}|${Number(r.me)}|${Number(r.fe)}|${Number(r.live)}`),
    'live assignments = the truth, each summing to 1',
  ).toEqual(
    [...truth]
      .sort((a, b) => (a.unit < b.unit ? -1 : 1))
      .map((u) => `${u.unit}|${u.variation}|${Number(u.multipleExposure)}|${u.firstExposureAt}|1`),
  );

  const liveEvents = await select<{
    unit: string;
    variation: string;
    event_id: string;
    live: number | string;
  }>(
    ch.client,
    `SELECT unit, variation, event_id, toFloat64(sum(sign)) AS live FROM attributed
     GROUP BY unit, variation, event_id, event, timestamp, weight, value HAVING live != 0 ORDER BY event_id`,
  );
  const expectedEvents = truth
    .flatMap((u) => u.events.map((e) => `${u.unit}|${u.variation}|${e.eventId}|1`))
    .sort();
  expect(
    liveEvents.map((r) => `${r.unit}|${r.variation}|${r.event_id}|${Number(r.live)}`).sort(),
    'live attributed events = the truth',
  ).toEqual(expectedEvents);

  const covariates = await select<{ identity: string; live: number | string }>(
    ch.client,
    `SELECT concat(unit, '|', variation, '|', toString(toUnixTimestamp64Milli(first_exposure_at)), '|', event_id, '|',
                   event, '|', toString(toUnixTimestamp64Milli(timestamp)), '|', toString(weight), '|',
                   ifNull(toString(value), '')) AS identity, toFloat64(sum(sign)) AS live
     FROM covariates GROUP BY unit, variation, first_exposure_at, event_id, event, timestamp, weight, value
     HAVING live != 0`,
  );
  expect(
    covariates.map((r) => `${r.identity}|${Number(r.live)}`).sort(),
    'live covariate rows = the records not retracted, each summing to 1',
  ).toEqual(liveCovariates.map((r) => `${covariateIdentity(r)}|1`).sort());
  const covariateSums = await select<{ unit: string; k: number; x: number }>(
    ch.client,
    `SELECT unit, sum(sign * weight) AS k, sum(sign * weight * coalesce(value, 0)) AS x
     FROM covariates GROUP BY unit HAVING k != 0`,
  );
  const expectedSums = new Map<string, { k: number; x: number }>();
  for (const r of liveCovariates) {
    const sums = expectedSums.get(r.unit) ?? { k: 0, x: 0 };
    expectedSums.set(r.unit, { k: sums.k + r.weight, x: sums.x + r.weight * (r.value ?? 0) });
  }
  expect(
    Object.fromEntries(covariateSums.map((r) => [r.unit, { k: Number(r.k), x: Number(r.x) }])),
    "each unit's signed covariate sums",
  ).toEqual(Object.fromEntries(expectedSums));

  const maintained = await select<{
    experiment: string;
    event: string;
    variation: string;
    c: number;
    sv: number;
    svq: number;
    sc: number;
    scq: number;
  }>(
    ch.client,
    `SELECT experiment, event, variation, toFloat64(sum(conversions)) AS c, sum(sum_value) AS sv, sum(sum_value_sq) AS svq,
            sum(sum_count) AS sc, sum(sum_count_sq) AS scq
     FROM variation_metrics GROUP BY experiment, event, variation`,
  );
  for (const experiment of new Set(truth.map((u) => u.experiment))) {
    for (const metric of ['purchase', 'view']) {
      for (const want of expectedStats(
        truth.filter((u) => u.experiment === experiment),
        metric,
      ).variations) {
        const got = maintained.find(
          (m) => m.experiment === experiment && m.event === metric && m.variation === want.variation,
        );
        const label = `${experiment}/${metric}/${want.variation}`;
        expect(Number(got?.c ?? 0), `${label} conversions`).toBe(want.conversions);
        for (const [field, value] of [
          ['sv', want.sumValue],
          ['svq', want.sumValueSq],
          ['sc', want.sumCount],
          ['scq', want.sumCountSq],
        ] as const) {
          expect(Math.abs(Number(got?.[field] ?? 0) - value), `${label} ${field}`).toBeLessThanOrEqual(
            1e-9 * Math.abs(value) + 1e-6,
          );
        }
      }
    }
  }
}

describe('ClickHouse sink (real broker, registry and ClickHouse)', () => {
  it('stores every committed record once, skips aborted transactions and undecodable records', async () => {
    const first = batch('checkout', 1);
    await produceCommitted(first.changelog, first.units);
    // An aborted transaction: read_committed must never show it.
    const aborted = await producer.transaction();
    await aborted.send({
      topic: topics.attributed,
      messages: [
        {
          key: 'shop/ghost',
          value: encoders.attributed.encode({
            project: 'shop',
            experiment: 'checkout',
            unit: 'ghost',
            variation: 'a',
            event_id: 'ghost-1',
            event: 'purchase',
            timestamp: START,
            weight: 1,
            value: 1,
            sign: 1,
          }),
        },
      ],
    });
    await aborted.abort();
    // Not Avro at all (another producer on the topic): skipped, counted, never retried forever.
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({
      topic: topics.attributed,
      messages: [{ key: 'shop/junk', value: Buffer.from('{"not":"avro"}') }],
    });
    await plain.disconnect();

    const sink = start();
    await eventually('all records stored', stored, allStored);
    const status = await eventually(
      'lag 0',
      async () => sink.status(),
      (s) => s.ready && s.partitions.every((p) => p.lag === 0),
    );
    await expectExactlyTheTruth();
    expect(status.recordsSkipped.invalid, 'the junk record').toBe(1);
    expect(status.rowsInserted.exposures, 'status counts the exposure rows').toBe(committed.exposures);
    expect(status.rowsInserted.attributed, 'status counts the attributed rows').toBe(committed.attributed);
    expect(
      status.unitsInState,
      'units with a live event are held for the per-variation sums',
    ).toBeGreaterThan(0);
    expect(
      status.partitions.map((p) => `${p.topic}:${p.partition}`).sort(),
      'every partition of the three topics assigned',
    ).toHaveLength(SINK_TABLES.length * PARTITIONS);
    const ghost = await select<{ n: number | string }>(
      ch.client,
      "SELECT toFloat64(count()) AS n FROM attributed WHERE unit = 'ghost'",
    );
    expect(Number(ghost[0]?.n), 'aborted records are not stored').toBe(0);
    await stop(sink);
  });

  it('after a crash between inserts and before the commit, a new instance counts nothing twice', async () => {
    const second = batch('pricing', 2);
    await produceCommitted(second.changelog, second.units);
    let crashed: InsertInfo | undefined;
    let thaw: () => void = () => undefined;
    const thawed = new Promise<void>((resolve) => {
      thaw = resolve;
    });
    thawers.push(thaw);
    // The first per-variation insert succeeds, then the process "freezes" before the attributed rows (no
    // heartbeat, no commit): the successor must replay those records for the rows and totals, not the sums.
    const frozen = start({
      hooks: {
        async afterInsert(info) {
          if (info.table !== 'variation_metrics' || crashed !== undefined) return;
          crashed = info;
          await thawed;
          throw new Error('simulated crash');
        },
      },
    });
    await eventually(
      'the crash',
      async () => crashed,
      (c) => c !== undefined,
    );
    const info = crashed as InsertInfo;
    const offsets = await admin.fetchOffsets({ groupId, topics: [topics.attributed] });
    const committedOffset = Number(
      offsets[0]?.partitions.find((p) => p.partition === info.partition)?.offset ?? '-1',
    );
    expect(
      committedOffset,
      'the inserted rows are past the committed offset: a replay would read them again',
    ).toBeLessThanOrEqual(info.firstOffset);

    // Other chunk boundaries than the frozen instance: ClickHouse's own block deduplication (same rows,
    // same token) cannot hide a replay, only the stored offsets can.
    const successor = start({}, { batchRows: 25 });
    await eventually('all records stored', stored, allStored, 90_000);
    await eventually(
      'successor caught up',
      async () => successor.status(),
      (s) => s.ready && s.partitions.every((p) => p.lag === 0),
    );
    await expectExactlyTheTruth();

    const stopping = frozen.stop();
    thaw();
    await stopping;
    running.splice(running.indexOf(frozen), 1);
    await stop(successor);
    await expectExactlyTheTruth();
  });

  it("with the group's offsets reset to the start, a restart skips what ClickHouse holds", async () => {
    for (const topic of [topics.exposures, topics.attributed]) {
      await admin.resetOffsets({ groupId, topic, earliest: true });
    }
    const third = batch('search', 3, 60);
    await produceCommitted(third.changelog, third.units);
    const sink = start();
    await eventually('all records stored', stored, allStored);
    const status = await eventually(
      'lag 0',
      async () => sink.status(),
      (s) => s.ready && s.partitions.every((p) => p.lag === 0),
    );
    await expectExactlyTheTruth();
    expect(status.rowsInserted.exposures, 'only the new exposure records').toBe(
      third.changelog.exposures.length,
    );
    expect(status.rowsInserted.attributed, 'only the new attributed records').toBe(
      third.changelog.attributed.length,
    );
    await stop(sink);
  });

  it('restarts its consumer after a crash kafkajs does not restart, and stores each record once', async () => {
    const metrics = new Registry();
    const restarts = async () =>
      (await metrics.getSingleMetric('liftstream_sink_consumer_restarts_total')?.get())?.values[0]?.value ??
      0;
    let failures = 0;
    // kafkajs retries a batch's ordinary errors and then restarts the consumer itself; a non-retriable one
    // that its runner gives up on at once (as it does for KafkaJSNotImplemented, or a root cause without
    // `retriable`, e.g. a raw socket error) crashes it with restart: false, and the consumer leaves for good.
    const sink = start({
      metrics,
      hooks: {
        afterInsert(info) {
          if (info.table !== 'attributed' || failures > 0) return;
          failures += 1;
          const crash = new Error('simulated failure after an insert');
          crash.name = 'KafkaJSNotImplemented'; // what kafkajs's runner gives up on at once, by name
          throw crash;
        },
      },
    });
    const before = batch('restart', 8, 60);
    await produceCommitted(before.changelog, before.units);
    await eventually('the sink restarted its consumer', restarts, (n) => n === 1, 30_000);
    expect(sink.status().lastError?.message).toContain('simulated failure after an insert');
    // Records committed after the crash are stored too: the sink consumes again.
    const after = batch('restart-after', 9, 60);
    await produceCommitted(after.changelog, after.units);
    await eventually('all records stored', stored, allStored, 60_000);
    await eventually(
      'running again, caught up',
      async () => sink.status(),
      (s) => s.state === 'running' && s.ready && s.partitions.every((p) => p.lag === 0),
    );
    await expectExactlyTheTruth();
    expect(failures).toBe(1);
    expect(await restarts(), 'one restart').toBe(1);
    await stop(sink);
  });

  it('retries while ClickHouse refuses inserts, heartbeating, and drops retries of inserts that landed', async () => {
    const fourth = batch('banner', 4, 60);
    let refusals = 0;
    const landedThenFailed = new Set<string>();
    const refuseUntil = Date.now() + 8_000; // longer than the 6 s session timeout: heartbeats must go on
    const flaky = new Proxy(ch.client, {
      get(target, prop, receiver) {
        if (prop === 'insert') {
          return async (params: Parameters<ClickHouseClient['insert']>[0]) => {
            if (params.table === 'attributed' && Date.now() < refuseUntil) {
              refusals += 1;
              throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
            }
            // Once per table: the insert lands, the answer is lost. A second copy of the sums would double count.
            if (!landedThenFailed.has(params.table)) {
              landedThenFailed.add(params.table);
              await target.insert(params);
              throw new Error('socket hang up');
            }
            return target.insert(params);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const sink = start({ clickhouse: flaky });
    await eventually(
      'joined',
      async () => sink.status(),
      (s) => s.ready,
    );
    const assignments = sink.status().assignments;
    await produceCommitted(fourth.changelog, fourth.units);
    const backingOff = await eventually(
      'the refused attributed inserts reported as a backoff',
      async () => sink.status(),
      (s) => s.backoff?.table === 'attributed' && s.backoff.error.includes('ECONNREFUSED'),
      20_000,
    );
    expect(backingOff.backoff?.attempt, 'retried with backoff').toBeGreaterThanOrEqual(1);
    expect(backingOff.lastError?.message).toContain('ECONNREFUSED');

    await eventually('all records stored', stored, allStored, 60_000);
    const status = await eventually(
      'recovered',
      async () => sink.status(),
      (s) => s.backoff === null && s.partitions.every((p) => p.lag === 0),
    );
    expect(refusals, 'inserts were refused for a while').toBeGreaterThan(3);
    expect([...landedThenFailed].sort(), 'an insert of each table landed but was reported failed').toEqual([
      'attributed',
      'exposures',
      'variation_metrics',
    ]);
    expect(status.assignments, 'no rebalance: the consumer kept heartbeating while it retried').toBe(
      assignments,
    );
    await expectExactlyTheTruth();
    await stop(sink);
  });

  it('adaptive flush: a burst of small transactions goes in as few inserts as intervals, partitions together, each record once; after a quiet spell at once', async () => {
    const inserts: InsertInfo[] = [];
    const sink = start(
      { hooks: { afterInsert: (info) => void inserts.push(info) } },
      // A share so small that every round is held to the interval: the test is about the rounds, not
      // about how the hold follows the insert time (unit-tested in flush-decision.test.ts).
      {
        flushMode: 'adaptive',
        flushIntervalMs: 1_000,
        insertShare: 0.001,
        fetchMinBytes: 1 << 20,
        batchRows: 50_000,
      },
    );
    await eventually(
      'joined',
      async () => sink.status(),
      (s) => s.ready,
    );
    const arms = ['control', 'a', 'b'];
    const units = generateUnits({
      project: 'shop',
      experiment: 'burst',
      arms,
      units: 120,
      events: ['purchase', 'view'],
      start: START,
      seed: 5,
    });
    const burstStarted = Date.now();
    const transactions = 40;
    for (let i = 0; i < transactions; i++) {
      const slice = units.slice(i * 3, i * 3 + 3);
      await produceCommitted(changelogOf(slice, 2_000 + i, arms), slice);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const burstSeconds = (Date.now() - burstStarted) / 1000;
    await eventually('all records stored', stored, allStored);
    await expectExactlyTheTruth();
    const exposureInserts = new Set(inserts.filter((i) => i.table === 'exposures').map((i) => i.statement))
      .size;
    // The first round at once, then one per interval of the burst (+1 for the tail), whatever the number
    // of partitions: each round is one insert per table.
    expect(
      exposureInserts,
      `${transactions} transactions over ${burstSeconds.toFixed(1)} s into ${PARTITIONS} partitions`,
    ).toBeLessThanOrEqual(1 + Math.ceil(burstSeconds) + 1);
    expect(exposureInserts, 'fewer inserts than transactions').toBeLessThan(transactions);
    const shared = inserts.filter(
      (i) =>
        i.table === 'exposures' &&
        inserts.some((o) => o.statement === i.statement && o.partition !== i.partition),
    );
    expect(shared.length, 'inserts holding several partitions').toBeGreaterThan(0);

    // A quiet spell longer than the interval: the next record is stored at once, not an interval later.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = sink.status().rowsInserted.exposures;
    const late = generateUnits({
      project: 'shop',
      experiment: 'quiet',
      arms,
      units: 1,
      events: ['purchase'],
      start: START,
      seed: 6,
    });
    const lateChangelog = changelogOf(late, 3_000, arms);
    await produceCommitted(lateChangelog, late);
    const committedAt = Date.now();
    while (sink.status().rowsInserted.exposures < before + lateChangelog.exposures.length) {
      if (Date.now() - committedAt > 10_000) throw new Error('the quiet record was not stored');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(Date.now() - committedAt, 'stored well within the 1 s interval, ms').toBeLessThan(500);
    // The quiet unit's attributed rows come from the other topic, fetched on their own: wait for every
    // committed record (a lost one times out here), then check nothing is there twice.
    await eventually('all records stored', stored, allStored);
    await expectExactlyTheTruth();
    await stop(sink);
  });

  it('adaptive flush, default share: light traffic is held by what its inserts cost, not to the interval', async () => {
    // An interval far longer than any hold a small round earns: held to the interval, the second record
    // would wait about 3 s; held by its insert time (a few ms, × 3 with the default share), well under 1.5 s.
    const sink = start({}, { flushMode: 'adaptive', flushIntervalMs: 3_000, batchRows: 50_000 });
    await eventually(
      'joined',
      async () => sink.status(),
      (s) => s.ready,
    );
    const arms = ['control', 'a'];
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = sink.status().rowsInserted.exposures;
      const units = generateUnits({
        project: 'shop',
        experiment: `light-${i}`, // a unit of its own each time
        arms,
        units: 1,
        events: ['purchase'],
        start: START,
        seed: 20 + i,
      });
      const changelog = changelogOf(units, 4_000 + i, arms);
      await produceCommitted(changelog, units);
      const committedAt = Date.now();
      while (sink.status().rowsInserted.exposures < before + changelog.exposures.length) {
        if (Date.now() - committedAt > 10_000) throw new Error(`light record ${i} was not stored`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      waits.push(Date.now() - committedAt);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(Math.max(...waits), `committed → stored, ms: ${waits.join(', ')}`).toBeLessThan(1_500);
    await eventually('all records stored', stored, allStored);
    await expectExactlyTheTruth();
    await stop(sink);
  });

  it('covariates: stored once with their signs, and a restart from reset group offsets stores nothing twice', async () => {
    const cuped = batch('cuped', 7, 12);
    const covariates = cuped.units.flatMap((u, i) =>
      [0, 1].map((j): CovariateRecord => ({
        project: u.project,
        experiment: u.experiment,
        unit: u.unit,
        variation: u.variation,
        first_exposure_at: u.firstExposureAt,
        event_id: `${u.unit}-pre-${j}`,
        event: 'purchase',
        // Before the first exposure, within the longest lookback.
        timestamp: u.firstExposureAt - (j + 1) * 86_400_000 + i,
        weight: j === 0 ? 1 : 4,
        value: j === 0 ? 10.25 + i : null,
        sign: 1,
      })),
    );
    // The three topics in one transaction, as the processor writes a unit's rows.
    await produceCommitted(cuped.changelog, cuped.units, covariates);
    // An alias merge or a late earlier exposure retracts one of them: a −1 identical to its +1.
    const retracted = covariates[3] as CovariateRecord;
    await produceCommitted({ exposures: [], attributed: [] }, [], [{ ...retracted, sign: -1 }]);

    const sink = start();
    await eventually('all records stored', stored, allStored);
    const status = await eventually(
      'lag 0',
      async () => sink.status(),
      (s) => s.ready && s.partitions.every((p) => p.lag === 0),
    );
    await expectExactlyTheTruth();
    expect(status.rowsInserted.covariates, 'status counts the covariate rows').toBe(covariates.length + 1);
    const [pair] = await select<{ rows: number | string; live: number | string }>(
      ch.client,
      `SELECT toFloat64(count()) AS rows, toFloat64(sum(sign)) AS live FROM covariates
       WHERE event_id = '${retracted.event_id}'`,
    );
    expect(
      [Number(pair?.rows), Number(pair?.live)],
      'the retracted record: +1 and −1 rows, summing to 0',
    ).toEqual([2, 0]);
    await stop(sink);

    // The group's offsets back at the start: the restarted sink must resume after what ClickHouse holds.
    for (const topic of [topics.exposures, topics.attributed, topics.covariates]) {
      await admin.resetOffsets({ groupId, topic, earliest: true });
    }
    const restarted = start();
    const resumed = await eventually(
      'lag 0 after the restart',
      async () => restarted.status(),
      (s) => s.ready && s.partitions.every((p) => p.lag === 0),
    );
    const storedEnds = await select<{ src_partition: number | string; last: number | string }>(
      ch.client,
      'SELECT src_partition, toFloat64(max(src_offset)) AS last FROM covariates GROUP BY src_partition',
    );
    expect(
      resumed.partitions
        .filter((p) => p.topic === topics.covariates && p.storedOffset !== -1)
        .map((p) => [p.partition, p.storedOffset])
        .sort(),
      'each covariates partition resumes after its last row in ClickHouse',
    ).toEqual(storedEnds.map((r) => [Number(r.src_partition), Number(r.last)]).sort());
    const late = { ...(covariates[0] as CovariateRecord), event_id: 'cuped-late', timestamp: START - 1 };
    await produceCommitted({ exposures: [], attributed: [] }, [], [late]);
    await eventually('the late record stored', stored, allStored);
    await expectExactlyTheTruth();
    expect(restarted.status().rowsInserted.covariates, 'only the new covariate record').toBe(1);
    await stop(restarted);
  });

  it('rebuilding variation_metrics from attributed (upgrade, bulk load) gives the sums the sink maintained', async () => {
    expect(await backfillVariationMetricsIfMissing(ch.client), 'not missing: nothing to do').toBe(false);
    await rebuildVariationMetrics(ch.client, { truncate: true });
    await expectExactlyTheTruth();
    const [ends] = await select<{ behind: number | string }>(
      ch.client,
      `SELECT toFloat64(count()) AS behind FROM
         (SELECT src_partition, max(src_offset) AS m FROM attributed GROUP BY src_partition) AS a
         INNER JOIN (SELECT src_partition, max(src_offset) AS m FROM variation_metrics GROUP BY src_partition) AS v
         USING (src_partition) WHERE v.m != a.m`,
    );
    expect(Number(ends?.behind), 'each partition stamped with its last attributed offset').toBe(0);
  });
});
