import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { produceCases } from './produce-encoding/cases.ts';
import { digest, encodeCase } from './produce-encoding/encode.ts';

/**
 * patches/kafkajs+2.2.4.patch (applied by `patch-package` on install) changes two costs of kafkajs's
 * producer, never its output:
 * - it groups a produce request's records by partition in linear time; upstream copies the partition's
 *   array once per record (unpatched, 200,000 records into two partitions took over a minute here,
 *   patched a few milliseconds);
 * - it writes an uncompressed produce request into one buffer in one pass, varints in place, without
 *   zero-filling; upstream allocated a 512-byte encoder per record and a Buffer per varint, then copied
 *   the payload through an encoder per record batch, partition, topic and frame (5-9x less CPU per
 *   record, and far fewer garbage collections; see the commits).
 * These tests pin the behaviour, check the output byte for byte against unpatched kafkajs 2.2.4, and
 * check that the installed files are the patched ones.
 */
type Message = { key: string; value: string };
type Group = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;

const require = createRequire(import.meta.url);
const modulePath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const groupMessagesPerPartition = require(modulePath) as Group;
const kafkajsDir = path.dirname(require.resolve('kafkajs/package.json'));

const messages = (n: number): Message[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
const byIndexModulo =
  (partitions: number) =>
  ({ message }: { message: Message }) =>
    Number(message.key.slice(1)) % partitions;

describe('kafkajs groupMessagesPerPartition (patched)', () => {
  it('groups records by the partitioner, keeping their order within each partition', () => {
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages: messages(7),
      partitioner: byIndexModulo(3),
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    expect(grouped['0']?.map((m) => m.key)).toEqual(['k0', 'k3', 'k6']);
    expect(grouped['1']?.map((m) => m.key)).toEqual(['k1', 'k4']);
    expect(grouped['2']?.map((m) => m.key)).toEqual(['k2', 'k5']);
  });

  it('returns no groups for a topic without partition metadata, as upstream does', () => {
    expect(
      groupMessagesPerPartition({
        topic: 't',
        partitionMetadata: [],
        messages: messages(3),
        partitioner: () => 0,
      }),
    ).toEqual({});
  });

  it('is the patched, linear version (npm install ran patch-package)', () => {
    const source = fs.readFileSync(modulePath, 'utf8');
    expect(source).not.toContain('[...current, message]');
    expect(source).toContain('current.push(message)');
  });

  it('groups 200,000 records', () => {
    const all = messages(200_000);
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}],
      messages: all,
      partitioner: byIndexModulo(2),
    });
    expect(grouped['0']).toHaveLength(100_000);
    expect(grouped['1']).toHaveLength(100_000);
    expect(grouped['1']?.at(-1)).toBe(all.at(-1));
  });
});

interface VarEncoder {
  writeVarLong(value: unknown): VarEncoder;
  writeUVarInt(value: number): VarEncoder;
  readonly buffer: Buffer;
}
type EncoderClass = (new () => VarEncoder) & { sizeOfVarLong(value: unknown): number };
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

describe('kafkajs produce request encoding (patched)', () => {
  it('puts the same bytes on the wire as unpatched kafkajs 2.2.4, for every case', async () => {
    const upstream = JSON.parse(
      fs.readFileSync(path.join(import.meta.dirname, 'produce-encoding', 'upstream-digests.json'), 'utf8'),
    ) as { bytes: number; sha256: string }[];
    const cases = produceCases();
    expect(upstream).toHaveLength(cases.length);
    for (const [i, c] of cases.entries()) {
      const bytes = await encodeCase(kafkajsDir, c);
      expect({ case: i, bytes: bytes.length, sha256: digest(bytes) }).toEqual({ case: i, ...upstream[i] });
    }
  });

  it('writes a number as varlong exactly as upstream writes the same value as a Long', () => {
    const edges = [0, 1, -1, 63, -64, 64, -65, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 1_700_000_000_000];
    const values = [
      ...edges,
      -1_700_000_000_000,
      2 ** 52 - 1,
      -(2 ** 52 - 1),
      2 ** 52,
      Number.MAX_SAFE_INTEGER,
    ];
    for (const v of values) {
      const asNumber = new Encoder().writeVarLong(v).buffer;
      const asLong = new Encoder().writeVarLong(Long.fromNumber(v)).buffer; // upstream's code path
      expect({ v, bytes: asNumber.toString('hex') }).toEqual({ v, bytes: asLong.toString('hex') });
      expect(Encoder.sizeOfVarLong(v)).toBe(asLong.length);
    }
  });

  it('writes unsigned varints in place, LEB128', () => {
    const hex = (v: number) => new Encoder().writeUVarInt(v).buffer.toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(127)).toBe('7f');
    expect(hex(128)).toBe('8001');
    expect(hex(300)).toBe('ac02');
    expect(hex(0xffffffff)).toBe('ffffffff0f');
    // several in a row land back to back, past the initial buffer
    const e = new Encoder();
    for (let i = 0; i < 1_000; i++) e.writeUVarInt(300);
    expect(e.buffer).toEqual(Buffer.from('ac02'.repeat(1_000), 'hex'));
  });

  it('is the patched version (npm install ran patch-package)', () => {
    for (const file of ['src/protocol/encoder.js', 'src/protocol/requests/produce/v3/request.js']) {
      expect(fs.readFileSync(path.join(kafkajsDir, file), 'utf8')).toContain('liftstream patch');
    }
  });
});
