import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * patches/kafkajs+2.2.4.patch (applied by `patch-package` on install) makes kafkajs group a produce
 * request's records by partition in linear time; upstream copies the partition's array once per record.
 * These tests pin the grouping's behaviour and check that the installed file is the patched one (the
 * results are the same either way; only the cost differs: unpatched, 200,000 records into two partitions
 * took over a minute here, patched a few milliseconds).
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
