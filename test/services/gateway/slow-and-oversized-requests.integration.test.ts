/**
 * Oversized and slow clients against a gateway process (main.ts, real broker and registry), over raw
 * sockets where a client must misbehave in ways fetch will not: bodies over MAX_BODY_BYTES, headers
 * over 16 KiB and bytes that are not HTTP get a 4xx in the one error format; slow-loris clients are
 * cut by HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS / KEEP_ALIVE_TIMEOUT_MS while a well-behaved client
 * keeps getting 200s; connections beyond MAX_CONNECTIONS are closed at once. (A body over the limit
 * with a Content-Length sent by fetch is in gateway-ingest.integration.test.ts.)
 *
 * Timeouts are short here so the file runs in seconds; bounds allow for a loaded 2-core box.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KEYS, keyStartsWith, readTopic } from '../../helpers/gateway-harness.ts';
import { expectErrorBody } from '../../helpers/error-format.ts';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.ts';
import { goodBatch, sendPost } from '../../helpers/gateway-requests.ts';
import {
  answerBeforeClose,
  answerOf,
  connectSlowClients,
  dribble,
  expectCutWith408,
  expectIdleKeepAliveClosed,
  parseAnswer,
  percentile,
  rawClient,
  scrapeMetric,
  within,
} from '../../helpers/http-probes.ts';

const brokers = inject('kafkaBrokers');
const MAX_BODY_BYTES = 100_000;
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 400;
/** Lateness allowed beyond a timeout: node's check interval (500 ms here) plus a busy machine. */
const SLACK_MS = 3_000;
const WRITE_HEADERS =
  `POST /v1/batch HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${KEYS.acmeWrite}\r\n` +
  'Content-Type: application/json\r\n';

let gw: GatewayProcess;

beforeAll(async () => {
  gw = await startGatewayProcess({
    brokers,
    registryUrl: inject('registryUrl'),
    env: {
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
  });
});

afterAll(async () => {
  await gw?.stop();
});

describe('oversized requests', () => {
  it('answers a declared Content-Length over MAX_BODY_BYTES with 413 before the body is sent, then cuts a client that keeps sending', async () => {
    const client = await rawClient(gw.port, (s) => {
      s.write(`${WRITE_HEADERS}Content-Length: 10000000000\r\n\r\n{"batch":`);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(chunk)), 10);
    });
    const { firstByteAfterMs, afterMs, received } = await within(
      client.closed,
      REQUEST_TIMEOUT_MS + SLACK_MS,
      'a client sending a 10 GB body',
    );
    const answer = parseAnswer(received);
    expect(answer.status).toBe(413);
    expectErrorBody(answer.json, 'body_too_large');
    expect(firstByteAfterMs, 'answered at once, not after the body').toBeLessThan(2_000);
    expect(received.match(/HTTP\/1\.1 /g), 'one answer, no 408 after it').toHaveLength(1);
    expect(
      afterMs,
      'the rest is read and discarded until REQUEST_TIMEOUT_MS, then cut',
    ).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS * 0.9);
  });

  it.each(['application/json', 'application/x-ndjson'])(
    'answers every streamed %s body over MAX_BODY_BYTES (no Content-Length) with 413, never a reset',
    async (contentType) => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        const total = 8 * 1024 * 1024;
        const chunk = new Uint8Array(64 * 1024).fill(0x20);
        let pulled = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= total) controller.close();
            else {
              pulled += chunk.length;
              controller.enqueue(chunk);
            }
          },
        });
        const res = await fetch(`${gw.url}/v1/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.acmeWrite}`, 'content-type': contentType },
          body,
          duplex: 'half',
        });
        expect(res.status, `attempt ${attempt}`).toBe(413);
        expectErrorBody((await res.json()) as Record<string, unknown>, 'body_too_large');
      }
    },
  );

  it('discards the rest of an oversized chunked body and serves the next request on the connection', async () => {
    const piece = 'x'.repeat(60_000);
    const chunked = `${piece.length.toString(16)}\r\n${piece}\r\n`.repeat(3) + '0\r\n\r\n';
    const client = await rawClient(gw.port, (s) =>
      s.write(`${WRITE_HEADERS}Transfer-Encoding: chunked\r\n\r\n${chunked}`),
    );
    const first = await answerOf(client);
    expect(parseAnswer(first).status).toBe(413);
    const event = JSON.stringify({ batch: [{ type: 'track', event: 'purchase', user_id: 'same-socket' }] });
    client.socket.write(`${WRITE_HEADERS}Content-Length: ${event.length}\r\n\r\n${event}`);
    const second = parseAnswer(await answerOf(client, first.length));
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect(second.json['accepted']).toBe(1);
    client.socket.destroy();
  });

  it('answers headers over 16 KiB with 431 headers_too_large in the one error format', async () => {
    const answer = await answerBeforeClose(
      gw.port,
      `${WRITE_HEADERS}X-Filler: ${'h'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(answer.status).toBe(431);
    expectErrorBody(answer.json, 'headers_too_large');
  });

  it('answers bytes that are not HTTP with 400 invalid_request in the one error format', async () => {
    const answer = await answerBeforeClose(gw.port, '\u0016\u0003\u0001 hello, not http\r\n\r\n');
    expect(answer.status).toBe(400);
    expectErrorBody(answer.json, 'invalid_request');
  });
});

describe('slow clients', () => {
  it('cuts 300 slow-loris sockets with 408 within their timeouts while a good client gets 200s', async () => {
    const kinds = {
      // connects and sends nothing
      idle: () => undefined,
      // dribbles headers that never end, a byte every 100 ms
      'slow headers': (s: net.Socket) => dribble(s, `${WRITE_HEADERS}X-Slow: ${'a'.repeat(10_000)}`, 100),
      // complete headers, then a tenth of the body and silence
      'stalled body': (s: net.Socket) => s.write(`${WRITE_HEADERS}Content-Length: 1000\r\n\r\n{"batch":[`),
      // complete headers, then the body a byte every 100 ms
      'slow body': (s: net.Socket) => {
        s.write(`${WRITE_HEADERS}Content-Length: 100000\r\n\r\n`);
        dribble(s, ' '.repeat(100_000), 100);
      },
    };
    const timeoutOf = (kind: string): number =>
      kind === 'idle' || kind === 'slow headers' ? HEADERS_TIMEOUT_MS : REQUEST_TIMEOUT_MS;
    const clientErrorsBefore = await scrapeMetric(
      gw.url,
      'liftstream_gateway_http_client_errors_total{code="request_timeout"}',
    );
    const slow = await connectSlowClients(gw.port, kinds, 75);
    const allClosed = Promise.all(slow.map((s) => s.client.closed));

    // The good client: two keep-alive connections posting 5 events each, back to back, until every
    // slow socket is gone.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const run = `slow-${Date.now().toString(36)}`;
    const good: { status: number; ms: number; accepted: number }[] = [];
    let done = false;
    void allClosed.then(() => (done = true));
    const deadline = Date.now() + REQUEST_TIMEOUT_MS + SLACK_MS;
    const loop = async (lane: number): Promise<void> => {
      while (!done && Date.now() < deadline) {
        const n = good.length;
        const events = Array.from({ length: 5 }, (_, i) => ({
          type: 'track',
          event: 'purchase',
          user_id: `${run}-${lane}-${n}-${i}`,
        }));
        good.push(await sendPost(gw.url, goodBatch(events), agent));
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.all([loop(0), loop(1)]);
    agent.destroy();

    await expectCutWith408(slow, timeoutOf, SLACK_MS);

    expect(
      good.length,
      'the good client kept sending while the slow sockets were open',
    ).toBeGreaterThanOrEqual(10);
    expect(
      good.filter((g) => g.status !== 200 || g.accepted !== 5),
      'every good request accepted in full',
    ).toEqual([]);
    const latencies = good.map((g) => g.ms);
    const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
    console.log(
      `[slow clients] ${good.length} good requests, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    expect(p99, 'good latency p99 while 300 slow sockets were open').toBeLessThan(2_000);
    const messages = await readTopic(brokers, gw.ingestTopic, {
      count: good.length * 5,
      match: keyStartsWith(`acme/${run}`),
    });
    expect(messages.length, 'every good event is on the ingest topic').toBe(good.length * 5);
    const clientErrors = await scrapeMetric(
      gw.url,
      'liftstream_gateway_http_client_errors_total{code="request_timeout"}',
    );
    expect(clientErrors - clientErrorsBefore, 'timeouts counted in /metrics').toBe(slow.length);
  });

  it('closes idle keep-alive connections after KEEP_ALIVE_TIMEOUT_MS', async () => {
    await expectIdleKeepAliveClosed(gw.port, KEEP_ALIVE_TIMEOUT_MS, SLACK_MS);
  });
});

describe('connection limit', () => {
  it('closes connections beyond MAX_CONNECTIONS at once and serves again when the timeouts free slots', async () => {
    const droppedBefore = await scrapeMetric(gw.url, 'liftstream_gateway_http_connections_dropped_total');
    // Holders: full headers, a stalled body; each holds its slot until REQUEST_TIMEOUT_MS.
    const holders = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () =>
        rawClient(gw.port, (s) => s.write(`${WRITE_HEADERS}Content-Length: 1000\r\n\r\n{`)),
      ),
    );
    const heldAt = Date.now();
    await new Promise((r) => setTimeout(r, 300)); // the gateway accepts the queued connections

    const extras = await Promise.all(Array.from({ length: 10 }, () => rawClient(gw.port)));
    for (const extra of await within(
      Promise.all(extras.map((e) => e.closed)),
      2_000,
      'connections beyond the limit',
    )) {
      expect(extra.received, 'closed without an answer').toBe('');
    }
    const refused = await sendPost(
      gw.url,
      goodBatch([{ type: 'track', event: 'purchase', user_id: 'refused' }]),
      false,
    );
    expect(refused.status, 'a good client is refused too while the slots are held').toBe(0);
    expect(Date.now() - heldAt, 'the limit was probed while every holder was open').toBeLessThan(
      REQUEST_TIMEOUT_MS,
    );

    await within(Promise.all(holders.map((h) => h.closed)), REQUEST_TIMEOUT_MS + SLACK_MS, 'holders');
    const served = await sendPost(
      gw.url,
      goodBatch([{ type: 'track', event: 'purchase', user_id: 'served' }]),
      false,
    );
    expect(served.status, 'served again once the timeouts freed the slots').toBe(200);
    expect(
      (await scrapeMetric(gw.url, 'liftstream_gateway_http_connections_dropped_total')) - droppedBefore,
      'drops counted in /metrics',
    ).toBe(11);
  });
});
