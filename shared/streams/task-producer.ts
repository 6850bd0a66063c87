import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Producer, type RecordMetadata, type TopicMessages } from 'kafkajs';
import { causeChain } from '../errors.ts';
import { backoffDelayMs, fullDelay } from '../retry/capped-backoff.ts';

/**
 * How a failed transaction ended, which decides how the task recovers:
 * - `aborted`: nothing was committed (the failure came before EndTxn(commit));
 * - `fenced`: another producer with this transactional id took over: the task moved (or this
 *   process is a zombie); nothing of ours commits any more and the task must be rebuilt;
 * - `unknown`: EndTxn(commit) failed: the transaction may or may not have committed.
 */
export type TransactionOutcome = 'aborted' | 'fenced' | 'unknown';

/** A failed transaction, with what is known of its outcome. */
export class TransactionFailed extends Error {
  constructor(
    readonly outcome: TransactionOutcome,
    cause: unknown,
  ) {
    super(`transaction ${outcome}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TransactionFailed';
  }
}

/** A source partition's next offset to read, committed for the consumer group by a transaction. */
export interface TransactionOffsets {
  groupId: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface TaskProducerOptions {
  /** Broker aborts a transaction left open longer than this (a crashed owner that is never replaced), ms. */
  transactionTimeoutMs: number;
  /**
   * Most bytes (keys + values + per-record overhead) in one produce request. kafkajs has no
   * max.request.size: it sends each partition's records of a sendBatch as one record batch, and a
   * batch over the broker's message.max.bytes (1 MiB by default) is refused, which would fail the
   * transaction on every retry. Larger transactions are sent in several requests.
   */
  maxRequestBytes?: number;
  /**
   * Most records in one produce request. Set when kafkajs grouped a request's records by partition in
   * O(records² / partitions); patches/kafkajs+2.2.4.patch made that linear, and the processor bench
   * then showed no difference between 1,000 and 10,000 (6,975 vs 6,599 and 7,210 events per CPU-second,
   * within run-to-run spread), so the bound stayed.
   */
  maxRequestRecords?: number;
  /**
   * The first retry of a failed sendBatch (its AddPartitionsToTxn and Produce requests: the producer's
   * `retry` applies to those only), ms; later ones double up to 2 s. kafkajs retries a sendBatch whose
   * AddPartitionsToTxn the coordinator answered CONCURRENT_TRANSACTIONS, which it does to a transaction
   * begun right after the previous one's commit until that one's markers are written (a few ms): a task
   * that keeps up commits back to back, and up to a third of its transactions wait this long once (0.14
   * to 0.32 retries per transaction in bench/transaction-commit.ts). Default DEFAULT_FIRST_RETRY_MS.
   */
  firstRetryMs?: number;
}

/** Default request bound: under the broker's default message.max.bytes (1 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 900_000;
/** Default record bound per request (see maxRequestRecords). */
export const DEFAULT_MAX_REQUEST_RECORDS = 1_000;
/**
 * Default first retry, ms. bench/transaction-commit.ts on the local broker, 8 tasks committing back to
 * back: with the 50 ms this producer used before (kafkajs's own default is 300), 285 commits/s, commit
 * p90 61 ms, p99 80 ms; with 10 ms, 718 commits/s, p90 19 ms, p99 27 ms (with 30 ms between a task's
 * commits, none refused: p99 16 ms). The Java producer retries this case after 20 ms.
 */
export const DEFAULT_FIRST_RETRY_MS = 10;
/**
 * Retries of a failed sendBatch: from a 10 ms first retry, doubling up to 2 s, they wait ~6.5 s in all
 * before the transaction is aborted, as the 8 retries from 50 ms used before did (~7 s): a leader move or
 * a coordinator change still fits. (InitProducerId and TxnOffsetCommit follow the client's retry,
 * shared/kafka/kafka-client.ts; AddOffsetsToTxn is retried below; EndTxn is not retried.)
 */
const REQUEST_RETRIES = 10;
/** Bytes a record adds beyond its key and value (record header, varints, attributes). */
const RECORD_OVERHEAD_BYTES = 24;

const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);
const SEND_OFFSETS_ATTEMPTS = 12;
/**
 * 10, 20, 40, 80, 160, 320, then 500 ms between sendOffsets attempts (no jitter: one producer per task,
 * nothing to spread), ~3 s in all: the same CONCURRENT_TRANSACTIONS window as DEFAULT_FIRST_RETRY_MS, so
 * the same short start.
 */
const SEND_OFFSETS_BACKOFF = { initialMs: 10, maxMs: 500 };

/**
 * One task's transactional producer. Its transactional id is stable per task
 * (`<appId>-<stage>-<partition>`), not per process: kafkajs only speaks TxnOffsetCommit v0 (no
 * KIP-447 group-generation fencing), so the way to fence a zombie that still believes it owns the
 * task is for the new owner to initialise the same transactional id, which bumps the epoch and
 * aborts (or completes) the zombie's open transaction.
 *
 * One transaction at a time (the caller serialises per task; kafkajs forbids overlap anyway).
 * After any failure the instance is `broken` and must be replaced by a fresh one: kafkajs's
 * transaction state machine cannot re-initialise a producer whose EndTxn failed.
 */
export class TaskProducer {
  private failed = false;

  private constructor(
    readonly transactionalId: string,
    private readonly producer: Producer,
    private readonly limits: RequestLimits,
  ) {}

  /**
   * Connects and initialises the transactional id (InitProducerId). When this returns, every
   * earlier transaction of the id, ours or a zombie's, is complete (committed or aborted, markers
   * written), so the committed offsets and changelog read afterwards are settled.
   */
  static async create(
    kafka: Kafka,
    transactionalId: string,
    options: TaskProducerOptions,
  ): Promise<TaskProducer> {
    const producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs,
      // Java-compatible murmur2: a key lands where Kafka clients in any language put it.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, unlike kafkajs's idempotent default (infinite): a failure must surface so the
      // transaction is aborted and retried from the last committed state.
      retry: {
        retries: REQUEST_RETRIES,
        initialRetryTime: options.firstRetryMs ?? DEFAULT_FIRST_RETRY_MS,
        maxRetryTime: 2_000,
      },
    });
    try {
      await producer.connect();
      // kafkajs initialises the transactional id lazily, on the first transaction(): begin and
      // end an empty one (no partitions, so no EndTxn is sent) to fence now.
      const txn = await producer.transaction();
      await txn.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return new TaskProducer(transactionalId, producer, {
      maxBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      maxRecords: options.maxRequestRecords ?? DEFAULT_MAX_REQUEST_RECORDS,
    });
  }

  /** True after a failure: replace this producer before the next transaction. */
  get broken(): boolean {
    return this.failed;
  }

  /**
   * Runs one transaction: the records, then the input offset, then commit. Throws
   * TransactionFailed with what is known of the outcome; an `aborted` failure was aborted here
   * (best effort: if even the abort fails, the next producer's initialisation aborts it).
   */
  async commit(
    topicMessages: TopicMessages[],
    offsets: readonly TransactionOffsets[],
  ): Promise<RecordMetadata[]> {
    if (this.failed)
      throw new TransactionFailed('aborted', new Error('producer is broken; create a new one'));
    let txn;
    try {
      txn = await this.producer.transaction();
    } catch (error) {
      this.failed = true;
      throw new TransactionFailed(isFenced(error) ? 'fenced' : 'aborted', error);
    }
    let metadata: RecordMetadata[] = [];
    try {
      for (const request of splitRequests(topicMessages, this.limits)) {
        metadata = metadata.concat(await txn.sendBatch({ topicMessages: request, acks: -1 }));
      }
      await sendOffsetsWithRetry(txn, offsets);
    } catch (error) {
      this.failed = true;
      await txn.abort().catch(() => undefined);
      throw new TransactionFailed(isFenced(error) ? 'fenced' : 'aborted', error);
    }
    try {
      await txn.commit();
    } catch (error) {
      this.failed = true;
      // A fenced EndTxn did not commit ours; but the task must be rebuilt either way.
      throw new TransactionFailed(isFenced(error) ? 'fenced' : 'unknown', error);
    }
    return metadata;
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

type Transaction = Awaited<ReturnType<Producer['transaction']>>;

/** Bounds of one produce request. */
export interface RequestLimits {
  maxBytes: number;
  maxRecords: number;
}

/**
 * Splits records into produce requests of at most `maxBytes` and `maxRecords` (a single record
 * over `maxBytes` goes alone and is refused by the broker: a state or row that big is a data
 * problem to surface, not to split). Order within each topic is kept, and requests are sent one
 * after another, so records of a partition keep their order.
 */
export function splitRequests(
  topicMessages: readonly TopicMessages[],
  limits: RequestLimits,
): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, TopicMessages['messages']>();
  let bytes = 0;
  let records = 0;
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const size = byteLength(message.key) + byteLength(message.value) + RECORD_OVERHEAD_BYTES;
      if (records > 0 && (bytes + size > limits.maxBytes || records >= limits.maxRecords)) {
        requests.push(toTopicMessages(current));
        current = new Map();
        bytes = 0;
        records = 0;
      }
      let list = current.get(topic);
      if (list === undefined) current.set(topic, (list = []));
      list.push(message);
      bytes += size;
      records += 1;
    }
  }
  if (records > 0) requests.push(toTopicMessages(current));
  return requests;
}

function toTopicMessages(byTopic: Map<string, TopicMessages['messages']>): TopicMessages[] {
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/**
 * AddOffsetsToTxn is not retried by kafkajs (tulios/kafkajs#430): right after the previous
 * transaction's commit, the coordinator answers CONCURRENT_TRANSACTIONS until that one's markers
 * are written (#1315, #1068). Retrying the whole sendOffsets is safe: both requests are
 * idempotent within a transaction.
 */
async function sendOffsetsWithRetry(txn: Transaction, offsets: readonly TransactionOffsets[]): Promise<void> {
  const groups = new Set(offsets.map((o) => o.groupId));
  if (groups.size !== 1) throw new Error(`a transaction commits offsets of one group, not ${groups.size}`);
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    const list = byTopic.get(o.topic) ?? [];
    list.push({ partition: o.partition, offset: String(o.offset) });
    byTopic.set(o.topic, list);
  }
  const request = {
    consumerGroupId: offsets[0]!.groupId,
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await txn.sendOffsets(request);
      return;
    } catch (error) {
      if (attempt >= SEND_OFFSETS_ATTEMPTS || !hasType(error, 'CONCURRENT_TRANSACTIONS')) throw error;
      await sleep(backoffDelayMs(attempt, SEND_OFFSETS_BACKOFF, fullDelay));
    }
  }
}

function isFenced(error: unknown): boolean {
  return [...FENCED_TYPES].some((type) => hasType(error, type));
}

/** kafkajs protocol errors carry `type`; retries wrap them in `cause`. */
function hasType(error: unknown, type: string): boolean {
  return causeChain(error).some((e) => (e as { type?: unknown }).type === type);
}
