/**
 * Micro-benchmark of kafkajs's produce request encoding (not a test): the CPU a producer spends
 * turning records into a Produce v3 request, for the gateway's record shape (36-byte key, ~168-byte
 * Avro value, 8 partitions), with the installed (patched) kafkajs and optionally an unpatched one.
 *
 *   npx tsx bench/kafkajs-encode.ts [--records 200] [--seconds 3] [--baseline DIR]
 *
 * DIR is an unpatched kafkajs package, e.g. from
 *   cd /tmp && npm pack kafkajs@2.2.4 && mkdir -p k && tar xzf kafkajs-2.2.4.tgz -C k   (DIR=/tmp/k/package)
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadProduceRequest } from '../test/shared/kafka/produce-encoding/encode.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const RECORDS = Number(args.records);
const PARTITIONS = 8;

const topicData = [
  {
    topic: 'bench.ingest',
    partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
      partition,
      firstSequence: 0,
      messages: Array.from({ length: Math.ceil(RECORDS / PARTITIONS) }, (_, i) => ({
        key: Buffer.from(randomUUID()),
        value: Buffer.alloc(168, i),
      })),
    })),
  },
];

async function measure(kafkajsDir: string): Promise<{ usPerRequest: number; nsPerRecord: number }> {
  const { request } = loadProduceRequest(kafkajsDir);
  const once = () =>
    request({ acks: -1, timeout: 30_000, producerId: 5, producerEpoch: 0, topicData }).encode();
  const warmUntil = performance.now() + 1_000;
  while (performance.now() < warmUntil) await once();
  let n = 0;
  const start = performance.now();
  const end = start + Number(args.seconds) * 1_000;
  while (performance.now() < end) {
    await once();
    n++;
  }
  const ms = (performance.now() - start) / n;
  return {
    usPerRequest: ms * 1_000,
    nsPerRecord: (ms * 1e6) / (Math.ceil(RECORDS / PARTITIONS) * PARTITIONS),
  };
}

const installed = path.dirname(createRequire(import.meta.url).resolve('kafkajs/package.json'));
const show = (label: string, r: { usPerRequest: number; nsPerRecord: number }) =>
  console.log(
    `${label.padEnd(10)} ${r.usPerRequest.toFixed(0).padStart(6)} µs per request of ${RECORDS} records, ` +
      `${r.nsPerRecord.toFixed(0)} ns per record`,
  );
const patched = await measure(installed);
show('installed', patched);
if (args.baseline !== undefined) {
  const baseline = await measure(args.baseline);
  show('baseline', baseline);
  console.log(
    `installed / baseline CPU per record = ${(patched.nsPerRecord / baseline.nsPerRecord).toFixed(2)}`,
  );
}
