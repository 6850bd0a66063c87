/**
 * Dimensions end to end: exposures posted to the real gateway (HTTP, Avro through the registry), the real
 * stream processor and the real sink into ClickHouse, all in this process on their own topic prefix, so
 * the test can read the `exposures` table directly. A unit's rows carry the values of its first exposure,
 * and a late earlier exposure with other values retracts the old row (with its exact map) and asserts the
 * new one, so sum(sign) per (unit, dimensions['country']) gives the new value only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { loadProjectCatalog, sha256Hex } from '../../shared/projects/project-catalog.ts';
import { loadProcessorConfig } from '../../services/processor/src/config.ts';
import { StreamProcessor } from '../../services/processor/src/stream-processor.ts';
import { startSink, type SinkHandle } from '../../services/sink/src/index.ts';
import { awaitConverged } from '../helpers/await-converged.ts';
import { cleanUp, KEYS, post, startTestGateway, type TestGateway } from '../helpers/gateway-harness.ts';
import { AvroSchemaRegistry, testKafka } from '../helpers/processor/kafka-harness.ts';
import { openClickHouse, type ClickHouseFixture } from '../helpers/stats/clickhouse-fixture.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const DEADLINE_MS = 60_000;
// Convergence is judged on ClickHouse alone: a short hold is enough to see a late correction.
const HOLD_MS = 1_000;
const POLL_MS = { equal: 200, differing: 250 };

describe('dimensions travel with the exposure row: gateway → processor → sink → ClickHouse', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-dimensions-'));
  const projectsFile = path.join(dir, 'projects.json');
  let gateway: TestGateway;
  let processor: StreamProcessor;
  let sink: SinkHandle;
  let ch: ClickHouseFixture;
  const t = Date.now() - 600_000;

  beforeAll(async () => {
    fs.writeFileSync(
      projectsFile,
      JSON.stringify({
        projects: [
          {
            id: 'acme',
            keys: [{ role: 'write', sha256: sha256Hex(KEYS.acmeWrite) }],
            dimensions: ['country', 'seats'],
          },
        ],
      }),
    );
    gateway = await startTestGateway({ brokers, registryUrl, env: { PROJECTS_FILE: projectsFile } });
    const config = loadProcessorConfig({
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_PREFIX: gateway.prefix,
      TOPIC_PARTITIONS: '3',
      PROCESSOR_APP_ID: `test-app-${gateway.prefix}`,
      PROJECTS_FILE: projectsFile,
      STATE_STORE: 'memory',
      LOG_LEVEL: 'warn',
    });
    const registry = new AvroSchemaRegistry(registryUrl);
    processor = new StreamProcessor({
      config,
      kafka: testKafka(brokers),
      registry,
      catalog: loadProjectCatalog(projectsFile),
      logger: createLogger('processor-test', 'warn'),
    });
    await processor.start();
    ch = await openClickHouse(inject('clickhouseUrl'), 'dimensions');
    sink = startSink({
      config: {
        topicPrefix: gateway.prefix,
        groupId: `${gateway.prefix}sink`,
        batchRows: 500,
        flushMode: 'adaptive',
        flushIntervalMs: 100,
        fetchMinBytes: 16 * 1024,
        sessionTimeoutMs: 6_000,
        retry: { initialMs: 100, maxMs: 1_000 },
        embeddedClickHouse: inject('clickhouseUrl') === undefined,
        concurrency: 1,
        state: { store: 'memory' },
      },
      kafka: testKafka(brokers),
      registry,
      clickhouse: ch.client,
      logger: createLogger('sink-test', 'warn'),
      metrics: new Registry(),
    });
  }, 120_000);

  afterAll(async () => {
    await sink?.stop();
    await processor?.stop();
    await gateway?.close();
    await cleanUp(brokers, registryUrl, gateway?.prefix ?? 'none.');
    await ch?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const exposure = (user: string, timestamp: number, fields: Record<string, unknown>) => ({
    type: 'exposure',
    user_id: user,
    experiment: 'checkout',
    variation: 'treatment',
    timestamp,
    ...fields,
  });

  /** A unit's stored rows in the order the sink stored them: country, seats, sign, first exposure. */
  async function rowsOf(unit: string): Promise<string[]> {
    const rows = await (
      await ch.client.query({
        query:
          "SELECT dimensions['country'] AS country, dimensions AS dims, sign, " +
          'toFloat64(toUnixTimestamp64Milli(first_exposure_at)) AS fe FROM exposures ' +
          'WHERE project = {p:String} AND unit = {u:String} ORDER BY src_offset',
        query_params: { p: 'acme', u: unit },
        format: 'JSONEachRow',
      })
    ).json<{ dims: Record<string, string>; sign: number; fe: number }>();
    return rows.map((r) => `${JSON.stringify(r.dims)} ${r.sign > 0 ? '+1' : '-1'} at ${Number(r.fe) - t}`);
  }

  async function converged(expected: Record<string, string[]>): Promise<string[]> {
    return awaitConverged(
      async () => {
        const differences: string[] = [];
        for (const [unit, rows] of Object.entries(expected)) {
          const actual = await rowsOf(unit);
          if (JSON.stringify(actual) !== JSON.stringify(rows)) {
            differences.push(`${unit}: ${JSON.stringify(actual)}`);
          }
        }
        return differences;
      },
      Date.now() + DEADLINE_MS,
      HOLD_MS,
      POLL_MS,
    );
  }

  it("stores the first exposure's values; a late earlier exposure retracts them and asserts its own", async () => {
    const first = await post(gateway.url, '/v1/batch', {
      batch: [
        // u1: country and seats from properties (seats a number, stored as "2"); locale is not declared.
        exposure('u1', t, { properties: { country: 'DE', seats: 2 }, context: { locale: 'de-DE' } }),
        // u2: country from the context, as no property names it.
        exposure('u2', t, { properties: { plan: 'pro' }, context: { country: 'FR' } }),
      ],
    });
    expect(first.json, 'both exposures accepted').toMatchObject({ accepted: 2, rejected: [] });
    expect(
      await converged({
        u1: ['{"country":"DE","seats":"2"} +1 at 0'],
        u2: ['{"country":"FR"} +1 at 0'],
      }),
      'each unit asserted once, with its declared dimensions only',
    ).toEqual([]);

    // u1 was in fact exposed a minute earlier, in another country and without seats: that one is first.
    const late = await post(
      gateway.url,
      '/v1/exposure',
      exposure('u1', t - 60_000, { properties: { country: 'US' } }),
    );
    expect(late.json, 'late exposure accepted').toMatchObject({ accepted: 1 });
    expect(
      await converged({
        u1: [
          '{"country":"DE","seats":"2"} +1 at 0',
          '{"country":"DE","seats":"2"} -1 at 0',
          '{"country":"US"} +1 at -60000',
        ],
        u2: ['{"country":"FR"} +1 at 0'],
      }),
      'the old row retracted with exactly its map, the new one asserted',
    ).toEqual([]);

    const live = await (
      await ch.client.query({
        query:
          "SELECT unit, dimensions['country'] AS country, toFloat64(sum(sign)) AS units FROM exposures " +
          "WHERE project = 'acme' AND experiment = 'checkout' GROUP BY unit, country ORDER BY unit, country",
        format: 'JSONEachRow',
      })
    ).json<{ unit: string; country: string; units: number }>();
    expect(
      live.map((r) => `${r.unit} ${r.country} ${Number(r.units)}`),
      "sum(sign) per (unit, dimensions['country']): the new value only",
    ).toEqual(['u1 DE 0', 'u1 US 1', 'u2 FR 1']);
  });
});
