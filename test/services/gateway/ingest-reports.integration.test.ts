/**
 * The gateway's per-project ingest reports against the real broker, through an outage of their topic: the
 * topic is deleted after start-up, so every report fails; ingest keeps answering 200 meanwhile; once the
 * topic is back, the waiting report arrives unchanged (the same seq and counts) and what was counted during
 * the outage arrives in a later report, so the records add up to exactly what was sent, each event once.
 */
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topicNames } from '../../../shared/kafka/topics.ts';
import type { IngestReport } from '../../../services/gateway/src/ingest-reports/ingest-report.ts';
import { cleanUp, KEYS, post, readTopic, startTestGateway } from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');
const BOT_CONTEXT = { user_agent: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)' };

let gw: TestGateway;
let admin: Admin;
let topic: string;

/** Reports the gateway failed to produce so far (liftstream_gateway_ingest_reports_total{outcome="failed"}). */
async function failedReports(): Promise<number> {
  const metric = await gw.gateway.metrics.ingestReports.get();
  return metric.values.find((v) => v.labels['outcome'] === 'failed')?.value ?? 0;
}

/** The counts of `reports` added up. */
function totals(reports: readonly IngestReport[]): Pick<IngestReport, 'accepted' | 'rejected' | 'dropped'> {
  const sum = { accepted: 0, rejected: {} as Record<string, number>, dropped: {} as Record<string, number> };
  for (const r of reports) {
    sum.accepted += r.accepted;
    for (const [code, n] of Object.entries(r.rejected)) sum.rejected[code] = (sum.rejected[code] ?? 0) + n;
    for (const [reason, n] of Object.entries(r.dropped)) sum.dropped[reason] = (sum.dropped[reason] ?? 0) + n;
  }
  return sum;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  gw = await startTestGateway({
    brokers,
    registryUrl,
    env: { INGEST_REPORT_INTERVAL_MS: '200', PRODUCER_THREADS: 'false' },
  });
  topic = topicNames(gw.prefix).ingestReports;
  admin = new Kafka({
    clientId: 'ingest-reports-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  expect(await admin.listTopics(), 'the gateway created the topic with the others').toContain(topic);
});

afterAll(async () => {
  await gw?.close();
  await admin?.disconnect().catch(() => undefined);
  await cleanUp(brokers, registryUrl, gw.prefix);
});

describe('gateway ingest reports', () => {
  it('keeps reports Kafka did not acknowledge, resends them unchanged, and never holds up ingest', async () => {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    await until('the topic to be gone', async () => !(await admin.listTopics()).includes(topic));

    const first = await post(gw.url, '/v1/batch', {
      batch: [
        { type: 'track', user_id: 'u-1', event: 'purchase' },
        { type: 'track', user_id: 'u-2', event: 'purchase', context: BOT_CONTEXT },
      ],
    });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({ accepted: 1, dropped: 1 });
    await until('a failed report', async () => (await failedReports()) > 0);

    // Counted while the first report waits: they must not be merged into it.
    const during = await post(gw.url, '/v1/batch', { batch: [{ type: 'page', user_id: 'u-3' }] });
    expect(during.status, 'ingest is not held up by failing reports').toBe(200);
    expect(during.json).toMatchObject({ accepted: 0, rejected: [{ code: 'invalid_kind' }] });
    const shop = await post(
      gw.url,
      '/v1/track',
      { user_id: 's-1', event: 'purchase' },
      { key: KEYS.shopWrite },
    );
    expect(shop.status, JSON.stringify(shop.json)).toBe(200);
    const failedBefore = await failedReports();
    await until('another failed round', async () => (await failedReports()) > failedBefore);

    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    // At least acme's waiting report, acme's later counts and shop's; a report sealed between a request's
    // rejections and its acceptance splits it over two, so there may be more.
    const records = await readTopic(brokers, topic, { count: 3, timeoutMs: 20_000, settleMs: 1_500 });
    const reports = records.map((m) => JSON.parse(m.value?.toString('utf8') ?? 'null') as IngestReport);
    expect(
      records.map((m) => m.key?.toString('utf8')),
      'keyed by project',
    ).toEqual(reports.map((r) => r.project));
    expect(new Set(reports.map((r) => r.gateway_id)).size, 'one gateway process').toBe(1);

    // A copy of a seq (a produce whose acknowledgement was lost, then resent) must be the same report.
    const distinct = new Map<number, IngestReport>();
    for (const r of reports) {
      const seen = distinct.get(r.seq);
      if (seen !== undefined) expect(r, `a second copy of seq ${r.seq} is identical`).toEqual(seen);
      distinct.set(r.seq, r);
    }
    const bySeq = [...distinct.values()].sort((a, b) => a.seq - b.seq);
    const acme = bySeq.filter((r) => r.project === 'acme');
    expect(totals(acme), `acme's events, each once: ${JSON.stringify(acme)}`).toEqual({
      accepted: 1,
      rejected: { invalid_kind: 1 },
      dropped: { bot: 1 },
    });
    // The rejection was counted after a report had failed: merged into that report and resent under a new
    // seq, it would be in the first report; resent unchanged, the first report cannot hold it.
    expect(acme[0]?.seq, 'the first report kept its seq').toBe(1);
    expect(acme[0]?.rejected, 'the first report, resent unchanged').toEqual({});
    const shopReports = bySeq.filter((r) => r.project === 'shop');
    expect(totals(shopReports), "shop's event in shop's report").toEqual({
      accepted: 1,
      rejected: {},
      dropped: {},
    });
    for (const r of reports) expect(r.window_start).toBeLessThanOrEqual(r.window_end);
  });
});
