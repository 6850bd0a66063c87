/**
 * A flood from one client key does not slow another project's write key: a gateway process (main.ts,
 * real broker and registry) first serves a write key of project shop alone, then while connections
 * send acme's client key as fast as they can. The flood is held to its rate limit (429 with
 * Retry-After, counted in the metrics), only its allowed requests reach Kafka, and the write key's
 * latency stays where it was.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KEYS, keyStartsWith, readTopic } from '../../helpers/gateway-harness.ts';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.ts';
import { flood } from '../../helpers/http-flood.ts';
import { sendPost, type GatewayPost } from '../../helpers/gateway-requests.ts';
import { percentile } from '../../helpers/http-probes.ts';

const brokers = inject('kafkaBrokers');
const PER_SECOND = 20;
const BURST = 40;
const FLOOD_CONNECTIONS = 8;
const PHASE_MS = 5_000;
const BATCH = 10;

let gw: GatewayProcess;

beforeAll(async () => {
  gw = await startGatewayProcess({
    brokers,
    registryUrl: inject('registryUrl'),
    env: { RATE_LIMIT_CLIENT_PER_SECOND: String(PER_SECOND), RATE_LIMIT_CLIENT_BURST: String(BURST) },
  });
});

afterAll(async () => {
  await gw?.stop();
});

const batch = (key: string, prefix: string, n: number): GatewayPost => ({
  path: '/v1/batch',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    batch: Array.from({ length: BATCH }, (_, i) => ({
      type: 'track',
      event: 'purchase',
      user_id: `${prefix}-${n}-${i}`,
      value: 1,
    })),
  }),
});

/** Posts shop's write key every 20 ms from two lanes until `until`; returns each answer. */
async function writeKeyLoad(run: string, until: number, agent: http.Agent) {
  const answers: { status: number; accepted: number; ms: number }[] = [];
  const lane = async (l: number): Promise<void> => {
    while (Date.now() < until) {
      answers.push(await sendPost(gw.url, batch(KEYS.shopWrite, `${run}-${l}`, answers.length), agent));
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all([lane(0), lane(1)]);
  return answers;
}

describe('a client key flooding the gateway (separate process)', () => {
  it("is held to its limit and leaves another project's write key as fast as before", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const run = `rl-${Date.now().toString(36)}`;

    // Warm-up, then the write key alone.
    await writeKeyLoad(`${run}-warm`, Date.now() + 1_000, agent);
    const alone = await writeKeyLoad(`${run}-alone`, Date.now() + PHASE_MS, agent);

    const floodPost = batch(KEYS.acmeClient, `${run}-flood`, 0);
    const flooding = flood({
      url: `${gw.url}${floodPost.path}`,
      headers: floodPost.headers,
      body: floodPost.body as string,
      connections: FLOOD_CONNECTIONS,
      durationMs: PHASE_MS + 1_000,
    });
    await new Promise((r) => setTimeout(r, 500)); // the flood is under way
    const during = await writeKeyLoad(`${run}-during`, Date.now() + PHASE_MS, agent);
    const f = await flooding;
    agent.destroy();
    const ok = f.byStatus['200'] ?? 0;
    const limited = f.byStatus['429'] ?? 0;

    const stats = (xs: { ms: number }[]) => ({
      p50: percentile(
        xs.map((x) => x.ms),
        50,
      ),
      p99: percentile(
        xs.map((x) => x.ms),
        99,
      ),
    });
    const [a, d] = [stats(alone), stats(during)];
    const floodSeconds = (PHASE_MS + 1_000) / 1000;
    console.log(
      `[rate limit] flood: ${f.sent} requests, ${ok} allowed, ${limited} limited; ` +
        `write key alone p50 ${a.p50.toFixed(1)} ms p99 ${a.p99.toFixed(1)} ms (${alone.length}), ` +
        `during the flood p50 ${d.p50.toFixed(1)} ms p99 ${d.p99.toFixed(1)} ms (${during.length})`,
    );

    expect(f.sent - ok - limited, 'flood answers other than 200/429').toBe(0);
    expect(f.sent, 'the flood really ran').toBeGreaterThan(10 * PER_SECOND * floodSeconds);
    expect(ok, 'allowed flood requests: the burst plus the rate').toBeLessThanOrEqual(
      BURST + PER_SECOND * floodSeconds + PER_SECOND,
    );
    expect(ok, 'the limit is not stricter than configured').toBeGreaterThanOrEqual(
      BURST + PER_SECOND * (floodSeconds - 1.5),
    );
    expect(f.retryAfter, 'Retry-After of a 429 (one token = 50 ms, rounded up)').toEqual(['1']);

    for (const answers of [alone, during]) {
      expect(
        answers.filter((x) => x.status !== 200 || x.accepted !== BATCH),
        'write key fully accepted',
      ).toEqual([]);
    }
    expect(d.p50, 'write key p50 during the flood vs alone, ms').toBeLessThan(a.p50 * 2 + 10);
    expect(d.p99, 'write key p99 during the flood vs alone, ms').toBeLessThan(a.p99 * 2 + 50);

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const counted = /liftstream_gateway_rate_limited_total\{role="client"\} (\d+)/.exec(metrics)?.[1];
    expect(Number(counted), 'the metric counts every 429').toBe(limited);

    const produced = await readTopic(brokers, gw.ingestTopic, {
      count: ok * BATCH,
      match: keyStartsWith(`acme/${run}-flood`),
      settleMs: 1_000,
    });
    expect(produced.length, 'only the allowed flood requests reached Kafka').toBe(ok * BATCH);
  });
});
