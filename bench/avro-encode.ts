/**
 * Micro-benchmark of Confluent-framed Avro encoding (not a test): the processor's output rows (attributed
 * events and exposures, schemas/) through shared/registry/confluent-encoder.ts beside the previous path,
 * `Buffer.concat([header, type.toBuffer(value)])`, in the same run, alternating rounds of the two.
 *
 *   npx tsx bench/avro-encode.ts [--records 200000] [--rounds 6]
 *
 * Prints per path and schema: records/s and ns per record (median and worst round); per schema, the process's
 * RSS and array-buffer memory after the rounds of both paths.
 */
import { parseArgs } from 'node:util';
import avro from 'avsc';
import { readAvsc, type AvscName } from '../shared/registry/avro-schemas.ts';
import { confluentEncoder } from '../shared/registry/confluent-encoder.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '6' },
  },
});
const RECORDS = Number(args.records);
const ROUNDS = Number(args.rounds);
if (!(RECORDS > 0 && ROUNDS > 0)) throw new Error('--records and --rounds: expected numbers > 0');

const SCHEMA_ID = 12;
const samples: Partial<Record<AvscName, (i: number) => unknown>> = {
  'attributed-event': (i) => ({
    project: 'shop',
    experiment: `checkout-${i % 5}`,
    unit: `user-${i}-7f3a9c`,
    variation: i % 2 === 0 ? 'control' : 'treatment',
    event_id: `0f8fad5b-d9cb-469f-a165-${String(i).padStart(12, '0')}`,
    event: 'purchase',
    timestamp: 1_765_000_000_000 + i,
    weight: 1,
    value: i % 3 === 0 ? null : 12.5 + (i % 100),
    sign: i % 10 === 0 ? -1 : 1,
  }),
  'unit-exposure': (i) => ({
    project: 'shop',
    experiment: `checkout-${i % 5}`,
    unit: `user-${i}-7f3a9c`,
    variation: i % 2 === 0 ? 'control' : 'treatment',
    first_exposure_at: 1_765_000_000_000 + i,
    multiple_exposure: false,
    dimensions: { country: ['DE', 'US', 'FR'][i % 3] as string, platform: 'web' },
    sign: 1,
  }),
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

console.log(
  `avro-encode bench: ${RECORDS} records x ${ROUNDS} rounds per path and schema, Node ${process.version}`,
);
for (const [schema, sample] of Object.entries(samples) as [AvscName, (i: number) => unknown][]) {
  const type = avro.Type.forSchema(readAvsc(schema) as avro.Schema);
  const values = Array.from({ length: RECORDS }, (_v, i) => sample(i));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(SCHEMA_ID, 1);
  const paths: Record<string, (value: unknown) => Buffer> = {
    'previous (concat + toBuffer)': (value) => Buffer.concat([header, type.toBuffer(value)]),
    confluentEncoder: confluentEncoder(type, SCHEMA_ID),
  };
  const ns: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((p) => [p, []]));
  let bytes = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    // Alternating which path goes first, so neither always pays the other's garbage.
    const order = round % 2 === 0 ? Object.entries(paths) : Object.entries(paths).reverse();
    for (const [name, encode] of order) {
      const started = process.hrtime.bigint();
      for (const value of values) bytes += encode(value).length;
      const elapsed = Number(process.hrtime.bigint() - started);
      // Round 0 warms both paths up (JIT); it is not counted.
      if (round > 0) ns[name]!.push(elapsed / RECORDS);
    }
  }
  const memory = process.memoryUsage();
  for (const [name, perRecord] of Object.entries(ns)) {
    const mid = median(perRecord);
    console.log(
      `${schema.padEnd(17)} ${name.padEnd(29)} ${Math.round(1e9 / mid)
        .toLocaleString('en-US')
        .padStart(10)} records/s, ` +
        `${mid.toFixed(0)} ns/record (worst round ${Math.max(...perRecord).toFixed(0)})`,
    );
  }
  console.log(
    `${' '.repeat(18)}memory after: RSS ${mb(memory.rss)}, array buffers ${mb(memory.arrayBuffers)} (${(bytes / 1e6).toFixed(0)} MB encoded)`,
  );
}
