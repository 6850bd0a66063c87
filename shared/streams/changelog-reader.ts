import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { LiftstreamError } from '../errors.ts';
import { fixedAssigner } from './fixed-assigner.ts';

/** One changelog partition to read, from its start up to `endOffset` (exclusive). */
export interface ChangelogPartition {
  topic: string;
  partition: number;
  /** Log start offset (admin.fetchTopicOffsets `low`): equal to `endOffset` means empty. */
  startOffset: number;
  /** High watermark taken after the task's producer fenced its predecessors. */
  endOffset: number;
}

export interface ReadChangelogsOptions {
  kafka: Kafka;
  admin: Admin;
  /** Prefix of the private group id (`<appId>-restore-<uuid>`). */
  groupIdPrefix: string;
  partitions: readonly ChangelogPartition[];
  /** Called for every committed record below the partition's end, in offset order per partition. */
  onRecord(topic: string, partition: number, key: string, value: string | null): void;
  /** Gives up (throws) after this long: a changelog whose last stable offset never reaches the end. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Reads changelog partitions from the beginning to the end offsets given, `read_committed`, as
 * a state restore must: aborted writes and transaction markers are skipped; the end offset is a
 * high watermark taken after fencing, so no open transaction of the task's own id can hold the
 * last stable offset below it.
 *
 * kafkajs has no manual assignment, so this is a consumer with a private, throwaway group id and
 * a fixed assigner, which commits nothing and is deleted afterwards. Progress is tracked with
 * END_BATCH_PROCESS, which kafkajs also emits for batches that held only markers or aborted
 * records (those never reach eachBatch), so a partition ending in a commit marker still
 * finishes. Returns the number of records applied.
 */
export async function readChangelogsToEnd(options: ReadChangelogsOptions): Promise<number> {
  const todo = options.partitions.filter((p) => p.endOffset > p.startOffset);
  if (todo.length === 0) return 0;
  const targets = new Map(todo.map((p) => [`${p.topic}:${p.partition}`, p.endOffset]));
  const assignment: Record<string, number[]> = {};
  for (const p of todo) (assignment[p.topic] ??= []).push(p.partition);

  const groupId = `${options.groupIdPrefix}-restore-${randomUUID()}`;
  const consumer = options.kafka.consumer({
    groupId,
    partitionAssigners: [fixedAssigner(assignment)],
    readUncommitted: false,
    // Large fetches: restore is pure throughput; short waits: a finished partition must not idle.
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  let applied = 0;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const finished = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${payload.topic}:${payload.partition}`;
        const end = targets.get(key);
        if (end === undefined || Number(payload.lastOffset) < end - 1) return;
        targets.delete(key);
        consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }]);
        if (targets.size === 0) resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      timer = setTimeout(
        () =>
          reject(
            new LiftstreamError(
              'KAFKA_UNAVAILABLE',
              `changelog restore did not reach the end of ${[...targets.keys()].join(', ')} within ${options.timeoutMs} ms`,
              { retriable: true },
            ),
          ),
        options.timeoutMs,
      );
      onAbort = () => reject(new Error('restore cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted === true) onAbort();
    });
    // Rejections before the await below (cancelled during connect) must not go unhandled.
    finished.catch(() => undefined);
    await consumer.connect();
    await consumer.subscribe({ topics: Object.keys(assignment), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: todo.length,
      eachBatch: async ({ batch }) => {
        const end = targets.get(`${batch.topic}:${batch.partition}`);
        if (end === undefined) return;
        for (const message of batch.messages) {
          // Beyond the end only if someone else writes this task's changelog: not ours to apply.
          if (Number(message.offset) >= end || message.key === null) continue;
          options.onRecord(
            batch.topic,
            batch.partition,
            message.key.toString('utf8'),
            message.value?.toString('utf8') ?? null,
          );
          applied++;
        }
      },
    });
    await finished;
    return applied;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
    await options.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}
