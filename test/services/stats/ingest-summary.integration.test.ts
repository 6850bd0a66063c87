/**
 * Ingest health end to end: two real gateways (the composition main.ts runs) report per-project outcomes
 * to `<prefix>ingest-reports` on the real broker, the stats service (createStatsService, embedded ClickHouse)
 * stores them, and GET /v1/ingest/summary answers exactly what was sent, per code and per reason.
 * Gateway A reports every 250 ms; gateway B never within the test (10-minute interval), so shop's figures
 * arrive only through B's report on graceful stop. A report produced twice is counted once; a malformed
 * record is skipped without stopping the ones after it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { sha256Hex } from '../../../shared/projects/project-catalog.ts';
import type { IngestReport } from '../../../services/gateway/src/ingest-reports/ingest-report.ts';
import { loadStatsConfig } from '../../../services/stats/src/config.ts';
import { createStatsService } from '../../../services/stats/src/stats-service.ts';
import type { StatsService } from '../../../services/stats/src/stats-service.ts';
import { cleanUp, post, startTestGateway } from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const prefix = `test-${randomUUID()}.`;
const topic = topicNames(prefix).ingestReports;
const logger = createLogger('ingest-summary-test', 'silent');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-ingest-summary-'));

const KEYS = {
  acmeWrite: `lsw_acme-${randomUUID()}`,
  acmeRead: `lsr_acme-${randomUUID()}`,
  shopWrite: `lsw_shop-${randomUUID()}`,
  shopRead: `lsr_shop-${randomUUID()}`,
};
const BOT_CONTEXT = {
  user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
};
const track = (user: string, event = 'purchase') => ({ type: 'track', user_id: user, event });

let gatewayA: TestGateway;
let gatewayB: TestGateway;
let stats: StatsService;
let producer: Producer;

interface Summary {
  project: string;
  from: string;
  to: string;
  accepted: number;
  rejected: { total: number; by_code: Record<string, number> };
  dropped: { total: number; by_reason: Record<string, number> };
  gateways: number;
  last_report_at: string | null;
}

async function summary(key: string, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await stats.app.inject({
    method: 'GET',
    url: `/v1/ingest/summary${query}`,
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

/** Polls the summary until `done` holds (the reports are seconds behind), returning the last answer. */
async function summaryWhen(key: string, done: (s: Summary) => boolean, timeoutMs = 30_000): Promise<Summary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await summary(key);
    expect(status, JSON.stringify(body)).toBe(200);
    const s = body as unknown as Summary;
    if (done(s) || Date.now() > deadline) return s;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The counts of a summary, without its clock-dependent fields. */
const countsOf = (s: Summary) => ({
  project: s.project,
  accepted: s.accepted,
  rejected: s.rejected,
  dropped: s.dropped,
  gateways: s.gateways,
});

beforeAll(async () => {
  const projectsFile = path.join(dir, 'projects.json');
  fs.writeFileSync(
    projectsFile,
    JSON.stringify({
      projects: [
        {
          id: 'acme',
          keys: [
            { role: 'write', sha256: sha256Hex(KEYS.acmeWrite) },
            { role: 'read', sha256: sha256Hex(KEYS.acmeRead) },
          ],
        },
        {
          id: 'shop',
          keys: [
            { role: 'write', sha256: sha256Hex(KEYS.shopWrite) },
            { role: 'read', sha256: sha256Hex(KEYS.shopRead) },
          ],
        },
      ],
    }),
  );
  const gatewayEnv = (intervalMs: number) => ({
    TOPIC_PREFIX: prefix,
    PROJECTS_FILE: projectsFile,
    INGEST_REPORT_INTERVAL_MS: String(intervalMs),
    PRODUCER_THREADS: 'false',
  });
  const statsConfig = loadStatsConfig({
    KAFKA_BROKERS: brokers,
    SCHEMA_REGISTRY_URL: registryUrl,
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: '3',
    PROJECTS_FILE: projectsFile,
    CLICKHOUSE_URL: inject('clickhouseUrl'),
    CLICKHOUSE_DATABASE: `t_ingest_${process.pid}`,
    CLICKHOUSE_DATA_DIR: path.join(dir, 'clickhouse'),
    SINK_STATE_STORE: 'memory',
    SINK_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'silent',
  });
  [gatewayA, gatewayB, stats] = await Promise.all([
    startTestGateway({ brokers, registryUrl, env: gatewayEnv(250) }),
    startTestGateway({ brokers, registryUrl, env: gatewayEnv(600_000) }),
    createStatsService(statsConfig, logger),
  ]);
  producer = createKafka(statsConfig.kafka, 'ingest-summary-test', logger).producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect().catch(() => undefined);
  await gatewayA?.close();
  await gatewayB?.close();
  await stats?.close();
  await cleanUp(brokers, registryUrl, prefix);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/ingest/summary', () => {
  it("answers each project's accepted, rejected-by-code and dropped-by-reason events, exactly as sent", async () => {
    const acmeBatch = await post(
      gatewayA.url,
      '/v1/batch',
      {
        batch: [
          track('u-1'),
          track('u-2'),
          track('u-3'),
          track('u-4', '$purchase'),
          track('u-5', '$purchase'),
          { type: 'page', user_id: 'u-6' },
          { ...track('u-7'), context: BOT_CONTEXT },
          { ...track('u-8'), context: BOT_CONTEXT },
        ],
      },
      { key: KEYS.acmeWrite },
    );
    expect(acmeBatch.status, JSON.stringify(acmeBatch.json)).toBe(200);
    expect(acmeBatch.json).toMatchObject({ accepted: 3, dropped: 2 });
    const acmeLines = await post(gatewayA.url, '/v1/batch', `${JSON.stringify(track('u-9'))}\n{"type":`, {
      key: KEYS.acmeWrite,
      contentType: 'application/x-ndjson',
      raw: true,
    });
    expect(acmeLines.status, JSON.stringify(acmeLines.json)).toBe(200);
    expect(acmeLines.json).toMatchObject({ accepted: 1, dropped: 0 });

    const shopBatch = await post(
      gatewayB.url,
      '/v1/batch',
      {
        batch: [
          track('s-1'),
          track('s-2'),
          { type: 'track', event: 'purchase' },
          { ...track('s-3'), context: BOT_CONTEXT },
        ],
      },
      { key: KEYS.shopWrite },
    );
    expect(shopBatch.status, JSON.stringify(shopBatch.json)).toBe(200);
    expect(shopBatch.json).toMatchObject({ accepted: 2, dropped: 1 });
    // B reports only on its graceful stop.
    await gatewayB.close();

    const acmeWant = {
      project: 'acme',
      accepted: 4,
      rejected: { total: 4, by_code: { reserved_event_name: 2, invalid_kind: 1, malformed_json: 1 } },
      dropped: { total: 2, by_reason: { bot: 2 } },
      gateways: 1,
    };
    const acme = await summaryWhen(
      KEYS.acmeRead,
      (s) => s.accepted + s.rejected.total + s.dropped.total >= 10,
    );
    expect(countsOf(acme), 'acme, from gateway A').toEqual(acmeWant);
    expect(Object.keys(acme).sort(), 'exactly the documented fields').toEqual(
      ['accepted', 'dropped', 'from', 'gateways', 'last_report_at', 'project', 'rejected', 'to'].sort(),
    );
    expect(Date.parse(acme.to) - Date.parse(acme.from), 'default range: 24 hours').toBe(24 * 3_600_000);
    expect(acme.last_report_at, 'a report in the range').not.toBeNull();
    expect(Math.abs(Date.parse(acme.last_report_at ?? '') - Date.now()), 'the report is recent').toBeLessThan(
      60_000,
    );

    const shop = await summaryWhen(
      KEYS.shopRead,
      (s) => s.accepted + s.rejected.total + s.dropped.total >= 4,
    );
    expect(countsOf(shop), "shop's key sees shop's events only (gateway B's stop report)").toEqual({
      project: 'shop',
      accepted: 2,
      rejected: { total: 1, by_code: { missing_identity: 1 } },
      dropped: { total: 1, by_reason: { bot: 1 } },
      gateways: 1,
    });

    // Nothing arrives later to change either answer (no double report, e.g. from A's next ticks).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(countsOf((await summary(KEYS.acmeRead, '?hours=1')).body as unknown as Summary)).toEqual(acmeWant);
  });

  it('counts a report delivered twice once, and skips a malformed record without stalling', async () => {
    const before = countsOf(await summaryWhen(KEYS.acmeRead, () => true));
    const now = Date.now();
    const report: IngestReport = {
      gateway_id: `replayed-${randomUUID()}`,
      seq: 1,
      project: 'acme',
      window_start: now - 5_000,
      window_end: now,
      accepted: 5,
      rejected: { replayed_code: 1 },
      dropped: {},
    };
    const sentinel: IngestReport = { ...report, seq: 2, accepted: 0, rejected: { sentinel_code: 1 } };
    // One key, so one partition: read in this order, so once the sentinel is stored the rest was read.
    await producer.send({
      topic,
      messages: [
        { key: 'acme', value: JSON.stringify(report) },
        { key: 'acme', value: JSON.stringify(report) },
        { key: 'acme', value: '{"gateway_id": "broken", "seq": -1' },
        { key: 'acme', value: JSON.stringify({ ...report, seq: 'three' }) },
      ],
    });
    await producer.send({ topic, messages: [{ key: 'acme', value: JSON.stringify(report) }] });
    await producer.send({ topic, messages: [{ key: 'acme', value: JSON.stringify(sentinel) }] });

    const after = await summaryWhen(KEYS.acmeRead, (s) => s.rejected.by_code['sentinel_code'] === 1);
    expect(
      countsOf(after),
      'the replayed report once, the sentinel once, the malformed ones not at all',
    ).toEqual({
      project: 'acme',
      accepted: before.accepted + 5,
      rejected: {
        total: before.rejected.total + 2,
        by_code: { ...before.rejected.by_code, replayed_code: 1, sentinel_code: 1 },
      },
      dropped: before.dropped,
      gateways: before.gateways + 1,
    });
    const shop = countsOf((await summary(KEYS.shopRead)).body as unknown as Summary);
    expect(shop.accepted, "acme's replayed report is not shop's").toBe(2);
  });

  it('refuses an hours parameter outside 1..720 with a 400 naming it, and a write key with 403', async () => {
    for (const hours of ['0', '721', 'abc', '1.5']) {
      const { status, body } = await summary(KEYS.acmeRead, `?hours=${hours}`);
      expect(status, `hours=${hours}: ${JSON.stringify(body)}`).toBe(400);
      const error = body['error'] as { code: string; message: string };
      expect(error.code).toBe('invalid_parameter');
      expect(error.message, `hours=${hours}`).toContain('"hours"');
    }
    const ok = await summary(KEYS.acmeRead, '?hours=720');
    expect(ok.status).toBe(200);
    expect(Date.parse(ok.body['to'] as string) - Date.parse(ok.body['from'] as string)).toBe(720 * 3_600_000);
    expect((await summary(KEYS.acmeWrite)).status).toBe(403);
  });
});
