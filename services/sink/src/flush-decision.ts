/**
 * When the sink's next insert round goes in, pure (issue 19). ClickHouse wants few, large inserts (each is a
 * part that merges must later combine, and an insert has a fixed cost of several milliseconds whatever its
 * size); results want each record stored soon after the processor committed it.
 *
 * The sink inserts in rounds (insert-rounds.ts): the batches of every partition handled at the same time
 * (kafkajs hands over one fetch's batches together) are stored with one insert per table, not one per
 * partition and table. While a round is being inserted the next fetch waits, so records arriving meanwhile
 * make the next round larger: the load sets the batch size. Two policies (SINK_FLUSH_MODE) say when a round
 * that has gathered its batches starts:
 *
 * - `interval` (the behaviour before issue 19): the broker holds each fetch until SINK_FETCH_MIN_BYTES are
 *   available or SINK_FLUSH_INTERVAL_MS passed, and the round goes in at once. Light traffic waits the whole
 *   interval; an idle pipeline's results take about that long to move.
 * - `adaptive`: fetches return as soon as a record is there; a round goes in at once when the previous one
 *   started at least SINK_FLUSH_INTERVAL_MS ago (a quiet pipeline: sporadic records go straight in) or when
 *   it already holds SINK_BATCH_ROWS rows (a backlog: waiting would not make it a better insert), and
 *   otherwise waits for the rest of that interval, so steady traffic gets one round per interval.
 *
 * The decision never touches exactly-once: a round's batches are resolved only after their rows are stored.
 */

export type FlushMode = 'adaptive' | 'interval';

export interface FlushPolicy {
  mode: FlushMode;
  /** `adaptive`: least time between the starts of two rounds under steady traffic, ms. */
  intervalMs: number;
  /** A round of at least this many rows goes in at once (adaptive): SINK_BATCH_ROWS, an insert's size. */
  insertAtOnceRows: number;
}

export type RoundStart =
  /** `interval` mode: the broker already gathered the fetch. */
  | 'fetched'
  /** The previous round started an interval ago or more (or there was none): the sink had caught up. */
  | 'idle'
  /** As large as an insert should be: a backlog, or heavy traffic. */
  | 'large'
  /** Waited for the rest of the interval since the previous round started (steady traffic). */
  | 'paced';

export interface RoundTiming {
  start: RoundStart;
  /** How long the gathered round waits before its inserts, ms (0: at once). */
  waitMs: number;
}

/**
 * @param sinceLastRoundMs ms since the previous round started; null when there was none
 * @param rows rows the round holds
 */
export function roundTiming(policy: FlushPolicy, sinceLastRoundMs: number | null, rows: number): RoundTiming {
  if (policy.mode === 'interval') return { start: 'fetched', waitMs: 0 };
  if (sinceLastRoundMs === null || sinceLastRoundMs >= policy.intervalMs) return { start: 'idle', waitMs: 0 };
  if (rows >= policy.insertAtOnceRows) return { start: 'large', waitMs: 0 };
  return { start: 'paced', waitMs: Math.ceil(policy.intervalMs - sinceLastRoundMs) };
}

/**
 * The fetch settings of each mode: in `interval` mode the broker does the batching; in `adaptive` mode
 * fetches return at the first record, and the wait only bounds how long an empty fetch is held.
 */
export function fetchSettings(
  policy: FlushPolicy,
  fetchMinBytes: number,
): { maxWaitTimeInMs: number; minBytes: number } {
  if (policy.mode === 'interval') return { maxWaitTimeInMs: policy.intervalMs, minBytes: fetchMinBytes };
  return { maxWaitTimeInMs: Math.min(ADAPTIVE_FETCH_MAX_WAIT_MS, policy.intervalMs), minBytes: 1 };
}

/** Longest an empty fetch is held in adaptive mode, ms (20 empty fetches a second on an idle topic). */
export const ADAPTIVE_FETCH_MAX_WAIT_MS = 50;
