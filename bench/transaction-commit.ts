/**
 * Transaction commit benchmark (issue 19; not a test): what a processor task pays per commit when it
 * commits back to back, as a task that keeps up does (a transaction per fetch). Each of --tasks
 * TaskProducers (their own transactional id, as the processor's tasks) runs --transactions transactions
 * one after another, concurrently with the others: --records records on each of three topics (as a
 * task's outputs and changelog) and its source offset, all on the task's partition. Once per first
 * retry in --first-retries, in the same run: 50 ms is what the producer used before issue 19's
 * TRANSACTION_FIRST_RETRY_MS (kafkajs's own default is 300), the baseline; then with a --gap-ms pause
 * between a task's commits, the cost of a transaction that meets no CONCURRENT_TRANSACTIONS.
 *
 *   npx tsx bench/transaction-commit.ts [--tasks 1,8] [--transactions 200] [--records 20]
 *                                       [--first-retries 50,10] [--gap-ms 30]
 *
 * Env: KAFKA_BROKERS (127.0.0.1:9092). Prints per case: commits/s, commit latency p50/p90/p99/max, the
 * sendBatch retries kafkajs logged for CONCURRENT_TRANSACTIONS per transaction, and this process's RSS.
 * Topics live under a fresh prefix, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { TaskProducer } from '../shared/streams/task-producer.ts';
import { rssMb } from './lib/process-stats.ts';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1,8' },
    transactions: { type: 'string', default: '200' },
    records: { type: 'string', default: '20' },
    'first-retries': { type: 'string', default: '50,10' },
    'gap-ms': { type: 'string', default: '30' },
  },
});
const list = (name: 'tasks' | 'first-retries'): number[] =>
  (args[name] as string).split(',').map((text) => {
    const value = Number(text);
    if (!(Number.isInteger(value) && value > 0))
      throw new Error(`--${name}: expected integers > 0, got ${text}`);
    return value;
  });
const count = (name: 'transactions' | 'records' | 'gap-ms'): number => {
  const value = Number(args[name]);
  if (!(Number.isInteger(value) && value >= 0)) throw new Error(`--${name}: expected an integer >= 0`);
  return value;
};
const TASKS = list('tasks');
const FIRST_RETRIES = list('first-retries');
const TRANSACTIONS = count('transactions');
const RECORDS = count('records');
const GAP_MS = count('gap-ms');
const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PREFIX = `bench-txn-${randomUUID().slice(0, 8)}.`;
const TOPICS = ['out', 'changes', 'rows'].map((t) => PREFIX + t);
const SOURCE = `${PREFIX}source`;
const GROUP = `${PREFIX}group`;
const PARTITIONS = Math.max(...TASKS);

interface Case {
  tasks: number;
  firstRetryMs: number;
  gapMs: number;
}

/** kafkajs logs each sendBatch it retries; these are the ones refused while the previous commit completed. */
let concurrentRetries = 0;
const kafka = new Kafka({
  clientId: 'bench-transaction-commit',
  brokers: BROKERS,
  logLevel: logLevel.ERROR,
  logCreator: () => (entry) => {
    const { message, error } = entry.log as { message: string; error?: unknown };
    // The connection logs the refused response, then the producer its retry: count the retry only.
    if (/another concurrent operation/.test(message)) concurrentRetries += 1;
    else if (!/another concurrent operation/.test(String(error)))
      console.error(`kafkajs: ${message} ${String(error)}`);
  },
});

async function runCase(c: Case, offsetBase: number): Promise<string> {
  const producers = await Promise.all(
    Array.from({ length: c.tasks }, (_v, task) =>
      TaskProducer.create(kafka, `${PREFIX}task-${c.firstRetryMs}-${c.gapMs}-${task}`, {
        transactionTimeoutMs: 30_000,
        firstRetryMs: c.firstRetryMs,
      }),
    ),
  );
  const value = 'v'.repeat(120);
  const latencies: number[] = [];
  concurrentRetries = 0;
  const started = performance.now();
  await Promise.all(
    producers.map(async (producer, task) => {
      for (let i = 0; i < TRANSACTIONS; i++) {
        const messages = Array.from({ length: RECORDS }, (_v, r) => ({
          key: `k${r}`,
          value,
          partition: task,
        }));
        const t = performance.now();
        await producer.commit(
          TOPICS.map((topic) => ({ topic, messages })),
          [{ groupId: GROUP, topic: SOURCE, partition: task, offset: offsetBase + i + 1 }],
        );
        latencies.push(performance.now() - t);
        if (c.gapMs > 0) await new Promise((resolve) => setTimeout(resolve, c.gapMs));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(producers.map((p) => p.close()));
  latencies.sort((a, b) => a - b);
  const q = (p: number): string =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  const total = c.tasks * TRANSACTIONS;
  const label = `tasks ${c.tasks}, first retry ${String(c.firstRetryMs).padStart(2)} ms, gap ${String(c.gapMs).padStart(2)} ms`;
  return (
    `${label.padEnd(40)} ${(total / seconds).toFixed(0).padStart(5)} commits/s  ` +
    `commit p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms  ` +
    `CONCURRENT_TRANSACTIONS retries ${(concurrentRetries / total).toFixed(2)}/txn  RSS ${rssMb(process.pid).toFixed(0)} MB`
  );
}

async function main(): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [...TOPICS, SOURCE].map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
    console.log(
      `transaction-commit bench: ${TRANSACTIONS} transactions per task, ${RECORDS} records x ${TOPICS.length} topics each, ` +
        `broker ${BROKERS.join(',')}, Node ${process.version}`,
    );
    const cases: Case[] = [];
    for (const tasks of TASKS) {
      for (const firstRetryMs of FIRST_RETRIES) cases.push({ tasks, firstRetryMs, gapMs: 0 });
      if (GAP_MS > 0) cases.push({ tasks, firstRetryMs: FIRST_RETRIES.at(-1)!, gapMs: GAP_MS });
    }
    for (const [i, c] of cases.entries()) console.log(await runCase(c, i * TRANSACTIONS));
  } finally {
    await admin.deleteTopics({ topics: [...TOPICS, SOURCE] }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
