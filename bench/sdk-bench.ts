/**
 * Producer SDK benchmark (NOT a test: it asserts nothing and its numbers depend on the machine).
 *
 *   npx tsx bench/sdk-bench.ts [--calls 200000] [--rounds 5]
 *
 * Prints, for Node:
 * - the caller's cost of one track() (what the application pays on its request path: build the event,
 *   UUID v7, serialise, queue), p50 / p99 / mean in µs over --calls calls per round, beside a baseline
 *   measured the same way in the same run: the same event spread, given a crypto.randomUUID(), stamped,
 *   JSON.stringify'd and pushed on an array (the least any queueing producer does);
 * - the full cost per event including delivery (batching, request bodies, gzip) through a transport
 *   that answers 200 at once, i.e. everything but the network;
 * - heap retained per queued event;
 * - the bundle: dist/liftstream.min.js raw and gzipped (target < 6 KB gzipped), with the share of
 *   `uuid`'s v7 (bundled alone), and how much gzip saves on a typical 100-event request body.
 * Heavy only in CPU for a few seconds; uses no network and no broker.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { createClient, type TrackInput, type Transport } from '../sdk/src/index.ts';
import { gzip } from '../sdk/src/gzip.ts';
import { buildSdk } from '../test/helpers/sdk-build.ts';
import { percentile } from './lib/paced-load.ts';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const event = (i: number): TrackInput => ({
  user_id: `user-${i % 5_000}`,
  event: 'purchase',
  value: (i % 97) + 0.5,
  properties: { plan: i % 2 ? 'pro' : 'free', items: i % 7 },
});

/** Answers 200 at once without reading the body (the SDK reads only `rejected` and `dropped`). */
const okTransport: Transport = async () => ({
  kind: 'response',
  status: 200,
  retryAfter: null,
  result: { accepted: 0, rejected: [] },
});

/** Times `call` one by one (µs each), after a warm-up. */
function timeCalls(call: (i: number) => void, n: number): number[] {
  for (let i = 0; i < 20_000; i++) call(i);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    call(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1_000;
  }
  return samples;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `p50 ${percentile(sorted, 0.5).toFixed(2)} µs, p99 ${percentile(sorted, 0.99).toFixed(2)} µs, mean ${mean.toFixed(2)} µs`;
}

console.log(
  `SDK benchmark (not a test), node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(2)}`,
);
console.log(`${CALLS} calls per round, ${ROUNDS} rounds; each line one round\n`);

console.log('track(), caller cost (no sends: flushAt and the interval out of reach):');
const sdkRounds: number[][] = [];
const baseRounds: number[][] = [];
for (let round = 0; round < ROUNDS; round++) {
  const client = createClient(
    {
      endpoint: 'http://127.0.0.1:9',
      key: 'lsw_bench',
      flushAt: 10_000_000,
      flushIntervalMs: 3_600_000,
      maxQueueSize: 10_000_000,
      flushOnExit: false,
    },
    { transport: okTransport },
  );
  gc();
  const sdk = timeCalls((i) => client.track(event(i)), CALLS);
  await client.close({ timeoutMs: 0 }).catch(() => undefined);
  const queue: string[] = [];
  gc();
  const base = timeCalls(
    (i) =>
      queue.push(
        JSON.stringify({ ...event(i), message_id: randomUUID(), timestamp: Date.now(), type: 'track' }),
      ),
    CALLS,
  );
  sdkRounds.push(sdk);
  baseRounds.push(base);
  console.log(`  sdk      ${summary(sdk)}`);
  console.log(`  baseline ${summary(base)}`);
}
console.log(`  all rounds: sdk ${summary(sdkRounds.flat())}`);
console.log(`              baseline ${summary(baseRounds.flat())}\n`);

console.log('track() + delivery through a 200-at-once transport (batches of 500, gzip), per event:');
for (let round = 0; round < ROUNDS; round++) {
  let requests = 0;
  const client = createClient(
    {
      endpoint: 'http://127.0.0.1:9',
      key: 'lsw_bench',
      maxBatchEvents: 500,
      flushAt: 500,
      // The loop below outruns one request at a time; hold it all so every event is measured.
      maxQueueSize: CALLS,
      flushOnExit: false,
    },
    {
      // What the fetch transport does before the network: gzip the body (CompressionStream).
      transport: async (body, signal) => {
        requests++;
        await gzip(body);
        return okTransport(body, signal);
      },
    },
  );
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) {
    client.track(event(i));
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await client.flush({ timeoutMs: 60_000 });
  const us = Number(process.hrtime.bigint() - t0) / 1_000 / CALLS;
  const stats = client.stats();
  await client.close({ timeoutMs: 0 });
  console.log(
    `  ${us.toFixed(2)} µs per event (${stats.delivered} delivered in ${requests} requests, ${stats.droppedQueueFull} dropped)`,
  );
}

gc();
const heapBefore = process.memoryUsage().heapUsed;
const held = createClient(
  {
    endpoint: 'http://127.0.0.1:9',
    key: 'lsw_bench',
    flushAt: 1e9,
    flushIntervalMs: 3_600_000,
    maxQueueSize: 1e9,
    flushOnExit: false,
  },
  { transport: okTransport },
);
const QUEUED = 50_000;
for (let i = 0; i < QUEUED; i++) held.track(event(i));
gc();
const perEvent = (process.memoryUsage().heapUsed - heapBefore) / QUEUED;
console.log(`\nheap retained per queued event: ${perEvent.toFixed(0)} bytes (${QUEUED} queued)`);
await held.close({ timeoutMs: 0 });

const build = buildSdk({ types: false });
const min = build.sizes['liftstream.min.js'];
// uuid's v7 bundled alone, resolved from the SDK's dependencies (stdin resolves from the cwd).
const uuidOnly = execFileSync(
  path.join(import.meta.dirname, '../node_modules/.bin/esbuild'),
  ['--bundle', '--minify', '--format=esm'],
  { cwd: path.join(import.meta.dirname, '../sdk'), input: "export { v7 } from 'uuid';\n" },
);
const sampleBody = JSON.stringify({
  batch: Array.from({ length: 100 }, (_, i) => ({
    ...event(i),
    type: 'track',
    message_id: randomUUID(),
    timestamp: Date.now(),
  })),
});
console.log(
  `\nbundle dist/liftstream.min.js: ${min.bytes} bytes, ${min.gzipBytes} gzipped (target < 6144 gzipped)`,
);
console.log(
  `  of which uuid v7 alone: ${uuidOnly.length} bytes, ${zlib.gzipSync(uuidOnly, { level: 9 }).length} gzipped`,
);
console.log(`  dist/index.js (uuid imported, not minified): ${build.sizes['index.js'].bytes} bytes`);
console.log(
  `gzip on a 100-event request body: ${sampleBody.length} → ${zlib.gzipSync(sampleBody).length} bytes`,
);
fs.rmSync(build.dir, { recursive: true, force: true });
