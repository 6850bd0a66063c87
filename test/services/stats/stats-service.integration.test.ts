/**
 * The stats process as main.ts wires it (createStatsService): migrated embedded ClickHouse, the hosted
 * sink consuming a test-prefixed exposures and attributed topic from the real broker, and the HTTP API.
 * Records produced to Kafka come out of GET /results equal to the independent computation.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { loadStatsConfig } from '../../../services/stats/src/config.ts';
import { computeResults } from '../../../services/stats/src/math/experiment-results.ts';
import { createStatsService } from '../../../services/stats/src/stats-service.ts';
import type { StatsService } from '../../../services/stats/src/stats-service.ts';
import type { ResultsBody } from '../../../services/stats/src/http/results-response.ts';
import { changelogOf, expectedStats, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';

const prefix = `test-${randomUUID()}.`;
const topics = topicNames(prefix);
const logger = createLogger('stats-service-test', 'silent');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-stats-service-'));
const READ_KEY = `read-${randomUUID()}`;

let admin: Admin;
let producer: Producer;
let service: StatsService;

const units = generateUnits({
  project: 'shop',
  experiment: 'checkout',
  arms: ['control', 'treatment'],
  units: 300,
  events: ['purchase'],
  start: Date.UTC(2026, 0, 5),
  seed: 31,
});

beforeAll(async () => {
  const projectsFile = path.join(dir, 'projects.json');
  fs.writeFileSync(
    projectsFile,
    JSON.stringify({ projects: [{ id: 'shop', keys: [{ role: 'read', sha256: sha256Hex(READ_KEY) }] }] }),
  );
  const config = loadStatsConfig({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('registryUrl'),
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: '2',
    PROJECTS_FILE: projectsFile,
    CLICKHOUSE_URL: inject('clickhouseUrl'),
    CLICKHOUSE_DATABASE: `t_service_${process.pid}`,
    CLICKHOUSE_DATA_DIR: path.join(dir, 'clickhouse'),
    SINK_FLUSH_INTERVAL_MS: '200',
    SINK_FETCH_MIN_BYTES: '1',
    SINK_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'silent',
  });
  const kafka = createKafka(config.kafka, 'stats-service-test', logger);
  admin = kafka.admin();
  await admin.connect();
  // The service starts before the topics exist (the processor creates them): its sink waits.
  service = await createStatsService(config, logger);
  const notYet = await service.app.inject({ method: 'GET', url: '/readyz' });
  expect(notYet.statusCode, 'not ready while the sink waits for its topics').toBe(503);

  await admin.createTopics({
    topics: [topics.exposures, topics.attributed, topics.covariates].map((topic) => ({
      topic,
      numPartitions: 2,
      replicationFactor: 1,
    })),
    waitForLeaders: true,
  });
  const registry = new AvroSchemaRegistry(inject('registryUrl'));
  const exposure = await registry.register(`${topics.exposures}-value`, readAvsc('unit-exposure'));
  const attributed = await registry.register(`${topics.attributed}-value`, readAvsc('attributed-event'));
  producer = kafka.producer({
    transactionalId: `${prefix}producer`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const changelog = changelogOf(units, 32, ['control', 'treatment']);
  const tx = await producer.transaction();
  await tx.send({
    topic: topics.exposures,
    messages: changelog.exposures.map((r) => ({ key: `${r.project}/${r.unit}`, value: exposure.encode(r) })),
  });
  await tx.send({
    topic: topics.attributed,
    messages: changelog.attributed.map((r) => ({
      key: `${r.project}/${r.unit}`,
      value: attributed.encode(r),
    })),
  });
  await tx.commit();
});

afterAll(async () => {
  await service?.close();
  await producer?.disconnect().catch(() => undefined);
  await admin
    ?.deleteTopics({ topics: [topics.exposures, topics.attributed, topics.covariates] })
    .catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('stats service with its hosted sink', () => {
  it('becomes ready once the sink consumes, and serves results equal to the independent computation', async () => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ready = await service.app.inject({ method: 'GET', url: '/readyz' });
      const lag = (ready.json() as { checks: { sink: { lag?: number; ready?: boolean } } }).checks.sink;
      if (ready.statusCode === 200 && lag.ready === true && lag.lag === 0) break;
      if (Date.now() > deadline) throw new Error(`sink never caught up: ${ready.body}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Lag 0 means consumed; the last round may still be on its way into ClickHouse (the flush interval),
    // so the results may answer 404 for a moment after readiness (seen once in CI).
    const askResults = () =>
      service.app.inject({
        method: 'GET',
        url: '/v1/experiments/checkout/results?metric=purchase',
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
    let response = await askResults();
    while (response.statusCode === 404 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      response = await askResults();
    }
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as ResultsBody;
    const truth = expectedStats(units, 'purchase');
    const expected = computeResults({ variations: truth.variations, control: 'control' });
    if (!expected.ok) throw new Error(expected.error.message);
    expect(body.multiple_exposure_units).toBe(truth.multipleExposureUnits);
    for (const want of expected.value.variations) {
      const got = body.variations.find((v) => v.variation === want.variation);
      expect(got?.units, `${want.variation} units`).toBe(want.units);
      expect(got?.conversions, `${want.variation} conversions`).toBe(want.conversions);
      for (const field of [
        'value_per_unit',
        'value_variance',
        'count_per_unit',
        'p_value',
        'value_p_value',
      ] as const) {
        const w = want[field];
        if (w === null) expect(got?.[field], field).toBeNull();
        else
          expect(Math.abs((got?.[field] as number) - w), `${want.variation}.${field}`).toBeLessThanOrEqual(
            1e-9 * Math.abs(w) + 1e-12,
          );
      }
    }
    const metrics = await service.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body, 'the sink reports into the same registry').toContain(
      'liftstream_sink_rows_inserted_total{table="attributed"}',
    );
    const tracked = /liftstream_stats_clickhouse_memory_bytes\{metric="MemoryTracking"\} (\d+)/.exec(
      metrics.body,
    );
    expect(Number(tracked?.[1]), "ClickHouse's own memory accounting, read on the scrape").toBeGreaterThan(0);
  });
});
