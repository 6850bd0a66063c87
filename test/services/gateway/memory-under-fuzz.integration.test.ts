/**
 * Memory under fuzzing: a gateway process (main.ts, real broker and registry) takes 20,000 seeded bad
 * requests of every kind; its live memory after full garbage collections must not grow from round to
 * round. Measured after a warm-up round (JIT, pools and caches filled) and after each further round.
 *
 * Tolerances: 2 MiB of heap and 2 MiB outside it over the 16,000 measured requests, so a leak of
 * 130 bytes per request fails (retaining each request's id and URL, about 150 bytes, failed with
 * +2.5 MiB); without a leak the heap moved by 0.1-0.4 MiB. RSS is a coarse guard against native
 * leaks (sockets, buffers): it includes V8's young generation (up to 3 x 32 MiB semi-spaces here),
 * which V8 commits and releases as it likes, so it moved by up to 24 MiB without a leak; 64 MiB
 * still fails a native leak of 4 KiB per request.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startGatewayProcess,
  type GatewayProcess,
  type SettledMemory,
} from '../../helpers/gateway-process.ts';
import {
  answeredAsExpected,
  hostileRequest,
  sendPost,
  type HostileRequest,
} from '../../helpers/gateway-requests.ts';
import { seededRandom } from '../../helpers/stats/signed-rows-scenario.ts';

const MIB = 1024 * 1024;
const LIMITS = { maxBodyBytes: 32_768, maxBatchEvents: 50 };
const WARM_UP = 4_000;
const ROUNDS = 4;
const PER_ROUND = 4_000;
const CONCURRENCY = 16;
const TOLERANCE = { heapUsedBytes: 2 * MIB, externalBytes: 2 * MIB, rssBytes: 64 * MIB };

let gw: GatewayProcess;
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  gw = await startGatewayProcess({
    brokers: inject('kafkaBrokers'),
    registryUrl: inject('registryUrl'),
    memoryProbe: true,
    env: { MAX_BODY_BYTES: String(LIMITS.maxBodyBytes), MAX_BATCH_EVENTS: String(LIMITS.maxBatchEvents) },
  });
});

afterAll(async () => {
  agent.destroy();
  await gw?.stop();
});

/** Sends `count` seeded bad requests, CONCURRENCY at a time; returns the answers that were wrong. */
async function fuzz(rand: () => number, count: number): Promise<string[]> {
  const requests: HostileRequest[] = Array.from({ length: count }, () => hostileRequest(rand, LIMITS));
  const wrong: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const req = requests[next++] as HostileRequest;
      const answer = await sendPost(gw.url, req, agent);
      if (!answeredAsExpected(req, answer))
        wrong.push(`${req.kind}: ${answer.status} (accepted ${answer.accepted})`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return wrong;
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

describe('gateway memory under fuzzing (separate process)', () => {
  it(`does not grow over ${ROUNDS * PER_ROUND} bad requests after a warm-up`, async () => {
    const rand = seededRandom(7);
    expect(await fuzz(rand, WARM_UP), 'warm-up answers outside the expected statuses').toEqual([]);
    const baseline = await gw.settledMemory();
    const samples: SettledMemory[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      expect(await fuzz(rand, PER_ROUND), `round ${round}: unexpected answers`).toEqual([]);
      samples.push(await gw.settledMemory());
    }
    const table = [baseline, ...samples].map(
      (s, i) =>
        `${i === 0 ? 'warm-up' : `round ${i}`}: rss ${mib(s.rssBytes)}, heap ${mib(s.heapUsedBytes)}, external ${mib(s.externalBytes)}`,
    );
    console.log(`[memory-under-fuzz] settled memory\n  ${table.join('\n  ')}`);

    for (const field of ['heapUsedBytes', 'externalBytes', 'rssBytes'] as const) {
      const growth = Math.max(...samples.map((s) => s[field])) - baseline[field];
      expect(
        growth,
        `${field} grew by ${mib(growth)} (tolerance ${mib(TOLERANCE[field])})`,
      ).toBeLessThanOrEqual(TOLERANCE[field]);
    }
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status, 'still serving').toBe(200);
  });
});
