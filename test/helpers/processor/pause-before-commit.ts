/**
 * Preloaded into a processor child process (`node --import tsx --import <this file>`) by the kill
 * tests that must hit a transaction's flush: every transactional producer's commit() writes a
 * marker line to stderr (the child's log), waits PAUSE_BEFORE_COMMIT_MS, then sends EndTxn. A test
 * that sees the marker kills the process while the flush is in flight: the transaction's records
 * and offsets are on the broker, its commit is not.
 *
 * The marker names, for each source partition the transaction commits, the records it covers
 * (the offset it commits minus the previous one this process committed there; -1 for the first),
 * so a test can show that transactions spanned several fetched chunks.
 */
import kafkajs, { type Producer, type ProducerConfig, type Transaction } from 'kafkajs';

const pauseMs = Number(process.env['PAUSE_BEFORE_COMMIT_MS'] ?? '0');
export const COMMIT_PAUSED_MARKER = 'test-hook: commit paused';

const lastCommitted = new Map<string, number>();

function pausingTransaction(txn: Transaction): Transaction {
  const covered: string[] = [];
  return new Proxy(txn, {
    get(target, prop, receiver) {
      if (prop === 'sendOffsets') {
        return async (request: Parameters<Transaction['sendOffsets']>[0]) => {
          // A retried sendOffsets sends the same offsets again: count each partition once.
          covered.length = 0;
          for (const { topic, partitions } of request.topics) {
            for (const { partition, offset } of partitions) {
              const key = `${topic}/${partition}`;
              const previous = lastCommitted.get(key);
              covered.push(`${key} covers ${previous === undefined ? -1 : Number(offset) - previous}`);
            }
          }
          const result = await target.sendOffsets(request);
          for (const { topic, partitions } of request.topics) {
            for (const { partition, offset } of partitions)
              lastCommitted.set(`${topic}/${partition}`, Number(offset));
          }
          return result;
        };
      }
      if (prop === 'commit') {
        return async () => {
          process.stderr.write(`${COMMIT_PAUSED_MARKER} (${covered.join(', ') || 'no offsets'})\n`);
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
          return target.commit();
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

if (pauseMs > 0) {
  const proto = kafkajs.Kafka.prototype as unknown as { producer(config?: ProducerConfig): Producer };
  const original = proto.producer;
  proto.producer = function producer(this: unknown, config?: ProducerConfig): Producer {
    const made = original.call(this, config);
    if (config?.transactionalId === undefined) return made;
    const transaction = made.transaction.bind(made);
    made.transaction = async () => pausingTransaction(await transaction());
    return made;
  };
}
