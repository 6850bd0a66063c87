import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readChangelogsToEnd } from '../../../shared/streams/changelog-reader.ts';
import { topicBounds } from '../../../shared/streams/offsets.ts';
import { deleteTopics, randomPrefix, testKafka } from '../../helpers/processor/kafka-harness.ts';

const brokers = inject('kafkaBrokers');

describe('readChangelogsToEnd (real broker)', () => {
  const kafka = testKafka(brokers);
  const admin = kafka.admin();
  const prefix = randomPrefix();
  const topic = `${prefix}changelog`;

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: `test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const write = async (
      commit: boolean,
      messages: Array<{ key: string; value: string | null; partition: number }>,
    ) => {
      const txn = await producer.transaction();
      await txn.send({ topic, messages });
      await (commit ? txn.commit() : txn.abort());
    };
    await write(true, [
      { key: 'a', value: 'a1', partition: 0 },
      { key: 'b', value: 'b1', partition: 0 },
      { key: 'c', value: 'c1', partition: 1 },
    ]);
    await write(false, [{ key: 'a', value: 'aborted', partition: 0 }]);
    await write(true, [
      { key: 'b', value: null, partition: 0 },
      { key: 'a', value: 'a2', partition: 0 },
    ]);
    // The partition then ends with an aborted transaction and its abort marker.
    await write(false, [{ key: 'c', value: 'aborted', partition: 1 }]);
    await producer.disconnect();
  });

  afterAll(async () => {
    await deleteTopics(admin, prefix);
    await admin.disconnect();
  });

  it('replays committed records only, tombstones included, and finishes on partitions that end in markers', async () => {
    const bounds = await topicBounds(admin, topic);
    const state = new Map<string, string>();
    const seen: string[] = [];
    const applied = await readChangelogsToEnd({
      kafka,
      admin,
      groupIdPrefix: `test-${randomUUID()}`,
      partitions: [0, 1, 2].map((partition) => ({
        topic,
        partition,
        startOffset: bounds.get(partition)!.low,
        endOffset: bounds.get(partition)!.high,
      })),
      timeoutMs: 30_000,
      onRecord: (_t, partition, key, value) => {
        seen.push(`${partition}:${key}=${value}`);
        if (value === null) state.delete(key);
        else state.set(key, value);
      },
    });
    expect(
      seen.filter((x) => x.startsWith('0:')),
      'committed records of partition 0 in offset order, aborted ones skipped',
    ).toEqual(['0:a=a1', '0:b=b1', '0:b=null', '0:a=a2']);
    expect(
      seen.filter((x) => x.startsWith('1:')),
      'partition 1 ends in an aborted transaction',
    ).toEqual(['1:c=c1']);
    expect(applied).toBe(5);
    expect(Object.fromEntries(state), 'the last committed value per key').toEqual({ a: 'a2', c: 'c1' });
  });

  it('reading only some partitions leaves the others alone', async () => {
    const bounds = await topicBounds(admin, topic);
    const keys: string[] = [];
    await readChangelogsToEnd({
      kafka,
      admin,
      groupIdPrefix: `test-${randomUUID()}`,
      partitions: [{ topic, partition: 1, startOffset: bounds.get(1)!.low, endOffset: bounds.get(1)!.high }],
      timeoutMs: 30_000,
      onRecord: (_t, _p, key) => keys.push(key),
    });
    expect(keys).toEqual(['c']);
  });
});
