import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DEFAULT_FIRST_RETRY_MS,
  TaskProducer,
  TransactionFailed,
} from '../../../shared/streams/task-producer.ts';
import { committedOffset } from '../../../shared/streams/offsets.ts';
import { deleteTopics, randomPrefix, testKafka } from '../../helpers/processor/kafka-harness.ts';

const brokers = inject('kafkaBrokers');

describe('TaskProducer (real broker)', () => {
  const kafka = testKafka(brokers);
  const admin = kafka.admin();
  const prefix = randomPrefix();
  const out = `${prefix}out`;
  const input = `${prefix}in`;
  const groupId = `test-group-${randomUUID()}`;
  const options = { transactionTimeoutMs: 30_000 };

  const readCommitted = async (): Promise<string[]> => {
    const consumer = kafka.consumer({
      groupId: `test-read-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: out, fromBeginning: true });
    const end = Number((await admin.fetchTopicOffsets(out))[0]!.high);
    await new Promise<void>((resolve) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (Number(payload.lastOffset) >= end - 1) resolve();
      });
      void consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    });
    await consumer.disconnect();
    return values;
  };

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: out, numPartitions: 1 },
        { topic: input, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
  });

  afterAll(async () => {
    await deleteTopics(admin, prefix);
    await admin.disconnect();
  });

  it('commits records and the input offset together, back to back', async () => {
    const producer = await TaskProducer.create(kafka, `test-txn-${randomUUID()}`, options);
    for (let i = 1; i <= 5; i++) {
      await producer.commit(
        [{ topic: out, messages: [{ value: `ok-${i}` }] }],
        [{ groupId, topic: input, partition: 0, offset: i }],
      );
    }
    // An empty transaction (no records) still commits the offset: AddOffsetsToTxn first.
    await producer.commit([], [{ groupId, topic: input, partition: 0, offset: 6 }]);
    expect(await committedOffset(admin, groupId, input, 0), 'offset of the last transaction').toBe(6);
    expect(await readCommitted()).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5']);
    await producer.close();
  });

  it('a new producer with the same transactional id fences the old one: its commit fails as fenced', async () => {
    const id = `test-txn-${randomUUID()}`;
    const zombie = await TaskProducer.create(kafka, id, options);
    const owner = await TaskProducer.create(kafka, id, options);
    const failure = await zombie
      .commit(
        [{ topic: out, messages: [{ value: 'zombie' }] }],
        [{ groupId, topic: input, partition: 0, offset: 100 }],
      )
      .then(() => null)
      .catch((e: unknown) => e);
    expect(failure, 'the zombie cannot commit').toBeInstanceOf(TransactionFailed);
    expect((failure as TransactionFailed).outcome).toBe('fenced');
    expect(zombie.broken, 'and must be replaced').toBe(true);
    await owner.commit(
      [{ topic: out, messages: [{ value: 'owner' }] }],
      [{ groupId, topic: input, partition: 0, offset: 7 }],
    );
    const values = await readCommitted();
    expect(values, 'the zombie wrote nothing visible').not.toContain('zombie');
    expect(values).toContain('owner');
    expect(await committedOffset(admin, groupId, input, 0)).toBe(7);
    await Promise.all([zombie.close(), owner.close()]);
  });

  it.each([
    { case: 'the default', firstRetryMs: undefined, expected: DEFAULT_FIRST_RETRY_MS, base: 100 },
    { case: 'firstRetryMs 30', firstRetryMs: 30, expected: 30, base: 200 },
  ])(
    'retries a transaction begun while the previous commit completes after the first retry time ($case)',
    async ({ firstRetryMs, expected, base }) => {
      // kafkajs logs each retried sendBatch with the time it waits; the ones refused because the previous
      // transaction's markers were still being written are what back-to-back commits pay.
      const waits: { retryCount: number; retryTime: number }[] = [];
      const logged = new Kafka({
        clientId: `test-${randomUUID()}`,
        brokers: brokers.split(','),
        logLevel: logLevel.ERROR,
        logCreator: () => (entry) => {
          const { message, retryCount, retryTime } = entry.log as {
            message: string;
            retryCount?: number;
            retryTime?: number;
          };
          if (/another concurrent operation/.test(message) && retryTime !== undefined)
            waits.push({ retryCount: retryCount ?? -1, retryTime });
        },
      });
      const producer = await TaskProducer.create(logged, `test-txn-${randomUUID()}`, {
        ...options,
        ...(firstRetryMs === undefined ? {} : { firstRetryMs }),
      });
      for (let i = 1; i <= 60; i++) {
        await producer.commit(
          [{ topic: out, messages: [{ value: `fast-${i}` }] }],
          [{ groupId, topic: input, partition: 0, offset: base + i }],
        );
      }
      await producer.close();
      expect(await committedOffset(admin, groupId, input, 0), 'every transaction committed').toBe(base + 60);
      // A one-record transaction right after the previous commit meets its markers more often than not on the
      // local broker (a throwaway count: 147 of 200): 60 without one would mean the condition is gone, and
      // this test with it.
      const first = waits.filter((w) => w.retryCount === 0);
      expect(first.length, 'transactions refused while the previous one completed').toBeGreaterThan(0);
      // kafkajs spreads a retry time ±20%, rounded up.
      for (const w of first) {
        expect(w.retryTime).toBeGreaterThanOrEqual(Math.floor(expected * 0.8));
        expect(w.retryTime).toBeLessThanOrEqual(Math.ceil(expected * 1.2));
      }
    },
  );
});
