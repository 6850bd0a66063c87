/**
 * kafkajs logs some conditions it handles itself at ERROR or WARN. In our logs an error must mean
 * something an operator should look at, so those few are demoted, with a note saying why they are
 * harmless. Anything else keeps kafkajs's level; if a retried condition finally fails, the caller sees
 * the exception and logs it at its own level.
 */
import { logLevel as KafkaLogLevel } from 'kafkajs';

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

interface KnownCondition {
  /** Matched against the log's message and its `error` field. */
  pattern: RegExp;
  level: LogLevelName;
  note: string;
}

const KNOWN: readonly KnownCondition[] = [
  {
    // Back-to-back transactions: the broker is still writing the previous commit's markers when the
    // next transaction adds a partition (tulios/kafkajs#1315); kafkajs retries after a short backoff.
    pattern: /another concurrent operation on the same transaction|CONCURRENT_TRANSACTIONS/,
    level: 'debug',
    note: 'previous transaction still completing on the broker; kafkajs retries (retriable, not a failure)',
  },
  {
    // Producer retries are bounded on purpose. Gateway: a request must fail within PRODUCE_TIMEOUT_MS
    // (503, the client retries; duplicates are dropped by message_id downstream). Processor: a failed
    // send aborts the transaction, which is redone from the last commit. Logged once per producer.
    pattern: /Limiting retries for the idempotent producer may invalidate EoS guarantees/,
    level: 'debug',
    note: 'retries are bounded on purpose: a failed send is refused (gateway) or its transaction redone (processor)',
  },
];

function levelName(level: number): LogLevelName {
  if (level === KafkaLogLevel.ERROR) return 'error';
  if (level === KafkaLogLevel.WARN) return 'warn';
  if (level === KafkaLogLevel.INFO) return 'info';
  return 'debug';
}

/** The level (and, for a known harmless condition, a note) our logs use for one kafkajs log line. */
export function kafkajsLogLevel(
  level: number,
  log: { message?: unknown; error?: unknown },
): { level: LogLevelName; note?: string } {
  const text = `${String(log.message ?? '')} ${String(log.error ?? '')}`;
  const known = KNOWN.find((k) => k.pattern.test(text));
  return known ? { level: known.level, note: known.note } : { level: levelName(level) };
}
