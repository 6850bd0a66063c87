/**
 * A load of bad requests does not starve good ones: a gateway process (main.ts, real broker and
 * registry) takes seeded bad requests of every kind from 24 connections plus 4 MiB bodies from two
 * more, while a well-behaved client posts batches; every good request must get a 200 with all its
 * events accepted, in bounded time, and every one of those events must be on the ingest topic.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KEYS, keyStartsWith, readTopic } from '../../helpers/gateway-harness.ts';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.ts';
import {
  answeredAsExpected,
  goodBatch,
  hostileRequest,
  sendPost,
  type HostileRequest,
} from '../../helpers/gateway-requests.ts';
import { percentile } from '../../helpers/http-probes.ts';
import { seededRandom } from '../../helpers/stats/signed-rows-scenario.ts';

const brokers = inject('kafkaBrokers');
const LIMITS = { maxBodyBytes: 1024 * 1024, maxBatchEvents: 1000 };
const LOAD_MS = 6_000;
const BAD_CONNECTIONS = 24;
const HUGE_BODY_BYTES = 4 * 1024 * 1024;
const GOOD_BATCH = 10;

let gw: GatewayProcess;

beforeAll(async () => {
  gw = await startGatewayProcess({ brokers, registryUrl: inject('registryUrl') });
});

afterAll(async () => {
  await gw?.stop();
});

describe('good requests under a load of bad ones (separate process)', () => {
  it('answers every good request 200 in bounded time and writes all its events', async () => {
    const badAgent = new http.Agent({ keepAlive: true, maxSockets: BAD_CONNECTIONS + 2 });
    const goodAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const rand = seededRandom(11);
    const stopAt = Date.now() + LOAD_MS;
    const bad = { sent: 0, wrong: [] as string[] };
    const check = (req: HostileRequest, answer: { status: number; accepted: number }): void => {
      bad.sent++;
      if (!answeredAsExpected(req, answer))
        bad.wrong.push(`${req.kind}: ${answer.status} (accepted ${answer.accepted})`);
    };
    const badLoop = async (): Promise<void> => {
      while (Date.now() < stopAt) {
        const req = hostileRequest(rand, LIMITS);
        check(req, await sendPost(gw.url, req, badAgent));
      }
    };
    const huge: HostileRequest = {
      kind: 'body_too_large',
      path: '/v1/batch',
      headers: { authorization: `Bearer ${KEYS.acmeWrite}`, 'content-type': 'application/json' },
      body: `{"batch":[${' '.repeat(HUGE_BODY_BYTES)}]}`,
      expected: [413],
    };
    const hugeLoop = async (): Promise<void> => {
      while (Date.now() < stopAt) {
        check(huge, await sendPost(gw.url, huge, badAgent));
      }
    };

    const run = `load-${Date.now().toString(36)}`;
    const good: { status: number; accepted: number; ms: number }[] = [];
    const goodLoop = async (lane: number): Promise<void> => {
      // Starts once the bad load is running and stops before it does.
      await new Promise((r) => setTimeout(r, 500));
      while (Date.now() < stopAt - 500) {
        const n = good.length;
        const batch = Array.from({ length: GOOD_BATCH }, (_, i) => ({
          type: 'track',
          event: 'purchase',
          user_id: `${run}-${lane}-${n}-${i}`,
          value: 1,
        }));
        good.push(await sendPost(gw.url, goodBatch(batch), goodAgent));
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    await Promise.all([
      ...Array.from({ length: BAD_CONNECTIONS }, badLoop),
      hugeLoop(),
      hugeLoop(),
      goodLoop(0),
      goodLoop(1),
    ]);
    badAgent.destroy();
    goodAgent.destroy();

    const latencies = good.map((g) => g.ms);
    const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
    console.log(
      `[bad load] ${bad.sent} bad requests in ${LOAD_MS} ms; ${good.length} good requests, ` +
        `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    expect(bad.sent, 'the bad load really ran').toBeGreaterThanOrEqual(1_000);
    expect(bad.wrong, 'bad requests answered outside their expected statuses').toEqual([]);
    expect(good.length, 'good requests were sent throughout').toBeGreaterThanOrEqual(20);
    expect(
      good.filter((g) => g.status !== 200 || g.accepted !== GOOD_BATCH),
      'every good request accepted in full',
    ).toEqual([]);
    expect(p99, 'good latency p99 under the bad load').toBeLessThan(2_000);

    const messages = await readTopic(brokers, gw.ingestTopic, {
      count: good.length * GOOD_BATCH,
      match: keyStartsWith(`acme/${run}`),
      settleMs: 500,
    });
    const keys = new Set(messages.map((m) => m.key?.toString()));
    expect(messages.length, 'every good event on the topic, once').toBe(good.length * GOOD_BATCH);
    expect(keys.size, 'distinct events').toBe(good.length * GOOD_BATCH);
  });
});
