/**
 * The stats API's bounds on slow and abusive clients over a real socket and real ClickHouse (embedded
 * chDB, or CLICKHOUSE_URL; no Kafka: the sink is not needed to read stored rows): slow-loris clients are
 * cut by HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS with 408 in the one error format while a well-behaved
 * client keeps getting /healthz and results; headers over 16 KiB get 431 and bytes that are not HTTP
 * 400; idle keep-alive connections close after KEEP_ALIVE_TIMEOUT_MS; connections beyond
 * MAX_CONNECTIONS are closed at once. The limits come from the env names, through loadStatsConfig.
 * (The same mechanism in the gateway: test/services/gateway/slow-and-oversized-requests.integration.test.ts.)
 *
 * Timeouts are short here so the file runs in seconds; bounds allow for a loaded 2-core box.
 */
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { buildStatsApp } from '../../../services/stats/src/app.ts';
import { loadStatsConfig } from '../../../services/stats/src/config.ts';
import { createStatsMetrics } from '../../../services/stats/src/stats-metrics.ts';
import { expectErrorBody } from '../../helpers/error-format.ts';
import {
  answerBeforeClose,
  connectSlowClients,
  dribble,
  expectCutWith408,
  expectIdleKeepAliveClosed,
  percentile,
  rawClient,
  scrapeMetric,
  within,
} from '../../helpers/http-probes.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';

const READ_KEY = 'acme-read-key-limits';
const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 200;
/** Lateness allowed beyond a timeout: node's check interval (750 ms here) plus a busy machine. */
const SLACK_MS = 3_000;
const RESULTS_PATH = '/v1/experiments/checkout/results?metric=purchase';
const RESULTS_HEADERS = `GET ${RESULTS_PATH} HTTP/1.1\r\nHost: stats\r\nAuthorization: Bearer ${READ_KEY}\r\n`;

let ch: ClickHouseFixture;
let app: FastifyInstance;
let url: string;
let port: number;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'stats_client_limits');
  const arms = ['control', 'treatment'];
  const units = generateUnits({
    project: 'acme',
    experiment: 'checkout',
    arms,
    units: 200,
    events: ['purchase'],
    start: Date.UTC(2026, 0, 5),
    seed: 51,
  });
  await ch.store(changelogOf(units, 52, arms));
  const config = loadStatsConfig({
    PROJECTS_FILE: 'unused.json', // the catalog is passed below
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });
  app = await buildStatsApp({
    config,
    catalog: parseProjectCatalog({
      projects: [{ id: 'acme', keys: [{ role: 'read', sha256: sha256Hex(READ_KEY) }] }],
    }),
    clickhouse: ch.client,
    logger: createLogger('stats-client-limits-test', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await app?.close();
  await ch?.close();
});

/** A well-behaved GET: its status (0 when the connection was closed instead) and time to the full answer. */
async function get(path: string, init: RequestInit = {}): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  try {
    const res = await fetch(`${url}${path}`, init);
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - start };
  } catch {
    return { status: 0, ms: performance.now() - start };
  }
}

const readKey = { authorization: `Bearer ${READ_KEY}` };

/** Waits until no connection is open, so a test starts with every slot free. */
async function noOpenConnections(): Promise<void> {
  const open = (): Promise<number> =>
    new Promise((resolve, reject) =>
      app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
    );
  const deadline = Date.now() + KEEP_ALIVE_TIMEOUT_MS + SLACK_MS;
  while ((await open()) > 0) {
    if (Date.now() > deadline) throw new Error(`${await open()} connections still open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('oversized and malformed requests', () => {
  it('answers headers over 16 KiB with 431 headers_too_large in the one error format', async () => {
    const answer = await answerBeforeClose(port, `${RESULTS_HEADERS}X-Filler: ${'h'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expectErrorBody(answer.json, 'headers_too_large');
  });

  it('answers bytes that are not HTTP with 400 invalid_request in the one error format', async () => {
    const answer = await answerBeforeClose(port, '\u0016\u0003\u0001 hello, not http\r\n\r\n');
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'invalid_request');
  });
});

describe('slow clients', () => {
  it('cuts 150 slow-loris sockets with 408 within their timeouts while a good client gets /healthz and results', async () => {
    const kinds = {
      // connects and sends nothing
      idle: () => undefined,
      // dribbles headers that never end, a byte every 100 ms
      'slow headers': (s: net.Socket) => dribble(s, `${RESULTS_HEADERS}X-Slow: ${'a'.repeat(10_000)}`, 100),
      // complete headers of a request with a body, then the body a byte every 100 ms
      'slow body': (s: net.Socket) => {
        s.write(
          `POST /v1/experiments HTTP/1.1\r\nHost: stats\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
        );
        dribble(s, ' '.repeat(100_000), 100);
      },
    };
    const timeoutOf = (kind: string): number =>
      kind === 'slow body' ? REQUEST_TIMEOUT_MS : HEADERS_TIMEOUT_MS;
    const timeoutsBefore = await scrapeMetric(
      url,
      'liftstream_stats_http_client_errors_total{code="request_timeout"}',
    );
    const slow = await connectSlowClients(port, kinds, 50);
    const allClosed = Promise.all(slow.map((s) => s.client.closed));

    // The good client: /healthz and the results, alternately, back to back, until every slow socket is gone.
    const good: { path: string; status: number; ms: number }[] = [];
    let done = false;
    void allClosed.then(() => (done = true));
    const deadline = Date.now() + REQUEST_TIMEOUT_MS + SLACK_MS;
    while (!done && Date.now() < deadline) {
      const path = good.length % 2 === 0 ? '/healthz' : RESULTS_PATH;
      good.push({ path, ...(await get(path, { headers: readKey })) });
      await new Promise((r) => setTimeout(r, 20));
    }

    await expectCutWith408(slow, timeoutOf, SLACK_MS);

    expect(
      good.filter((g) => g.path === RESULTS_PATH).length,
      'the good client kept reading results while the slow sockets were open',
    ).toBeGreaterThanOrEqual(5);
    expect(
      good.filter((g) => g.status !== 200),
      'every good request answered 200',
    ).toEqual([]);
    const latencies = good.map((g) => g.ms);
    const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
    console.log(
      `[stats slow clients] ${good.length} good requests, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    expect(p99, 'good latency p99 while 150 slow sockets were open').toBeLessThan(2_000);
    const timeouts = await scrapeMetric(
      url,
      'liftstream_stats_http_client_errors_total{code="request_timeout"}',
    );
    expect(timeouts - timeoutsBefore, 'timeouts counted in /metrics').toBe(slow.length);
  });

  it('closes idle keep-alive connections after KEEP_ALIVE_TIMEOUT_MS', async () => {
    await expectIdleKeepAliveClosed(port, KEEP_ALIVE_TIMEOUT_MS, SLACK_MS);
  });
});

describe('connection limit', () => {
  it('closes connections beyond MAX_CONNECTIONS at once and serves again when the timeouts free slots', async () => {
    const droppedBefore = await scrapeMetric(url, 'liftstream_stats_http_connections_dropped_total');
    await noOpenConnections(); // the earlier tests' keep-alive connections and the scrape's own
    // Holders: headers never finished; each holds its slot until HEADERS_TIMEOUT_MS.
    const holders = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () =>
        rawClient(port, (s) => s.write('GET /healthz HTTP/1.1\r\n')),
      ),
    );
    const heldAt = Date.now();
    await new Promise((r) => setTimeout(r, 300)); // the server accepts the queued connections

    const extras = await Promise.all(Array.from({ length: 10 }, () => rawClient(port)));
    for (const extra of await within(
      Promise.all(extras.map((e) => e.closed)),
      2_000,
      'connections beyond the limit',
    )) {
      expect(extra.received, 'closed without an answer').toBe('');
    }
    const refused = await get(RESULTS_PATH, { headers: { ...readKey, connection: 'close' } });
    expect(refused.status, 'a good client is refused too while the slots are held').toBe(0);
    expect(Date.now() - heldAt, 'the limit was probed while every holder was open').toBeLessThan(
      HEADERS_TIMEOUT_MS,
    );

    await within(Promise.all(holders.map((h) => h.closed)), HEADERS_TIMEOUT_MS + SLACK_MS, 'holders');
    const served = await get(RESULTS_PATH, { headers: { ...readKey, connection: 'close' } });
    expect(served.status, 'served again once the timeouts freed the slots').toBe(200);
    expect(
      (await scrapeMetric(url, 'liftstream_stats_http_connections_dropped_total')) - droppedBefore,
      'drops counted in /metrics',
    ).toBe(11);
  });
});
