/**
 * When the sink inserts a fetched batch of one partition, pure (issue 19). ClickHouse wants few, large
 * inserts (each is a part that merges must later combine); results want each record stored soon after the
 * processor committed it. Two policies (SINK_FLUSH_MODE):
 *
 * - `interval` (the behaviour before issue 19): the broker holds each fetch until SINK_FETCH_MIN_BYTES are
 *   available or SINK_FLUSH_INTERVAL_MS passed, and every fetched batch is inserted at once. Light traffic
 *   waits the whole interval; an idle pipeline's results take about that long to move.
 * - `adaptive`: fetches return as soon as a record is there, and a batch is inserted at once when its
 *   partition has been quiet (the sink had caught up: sporadic records go straight in) or when it holds at
 *   least SINK_FETCH_MIN_BYTES or SINK_BATCH_ROWS (a backlog, or heavy traffic: waiting would not make it
 *   any better an insert). Under steady traffic it waits, gathering what arrives meanwhile, so that each
 *   partition is inserted about once per SINK_FLUSH_INTERVAL_MS (see FlushRound).
 *
 * The decision never touches exactly-once: a deferred batch is neither inserted nor resolved, and is fetched
 * again (with what arrived since) when it is due.
 */

export type FlushMode = 'adaptive' | 'interval';

export interface FlushPolicy {
  mode: FlushMode;
  /** Least time between two inserts of one partition under steady traffic (adaptive), ms. */
  intervalMs: number;
  /** A batch of at least this many bytes (record values) is inserted at once (adaptive). */
  insertAtOnceBytes: number;
  /** A batch of at least this many rows is inserted at once (adaptive): SINK_BATCH_ROWS, an insert's maximum. */
  insertAtOnceRows: number;
}

/**
 * A partition's flush round (adaptive): the sink's topics are co-partitioned and written in the same
 * transactions (a unit's exposure, attributed and covariate rows share a partition number), so a partition
 * number is flushed in rounds: the first batch due starts one, and each other topic's batch of that
 * partition joins it if it comes within half an interval (it usually comes in the same fetch). Inserted
 * together, the tables stay in step (results notice an attributed row whose exposure is not stored yet, and
 * fall back to a slower query; a transaction's covariate rows usually go in with its other rows), and each
 * topic gets one insert per partition and round.
 *
 * Rounds are paced by a token bucket per partition number: ROUND_BURST tokens, one more per interval.
 * Sporadic traffic (a quiet pipeline, a few events a second) finds a token and goes in at once; steady
 * traffic empties the bucket and then gets one round per interval, as large as the traffic makes it.
 */
export interface FlushRound {
  /** ms since the round started. */
  msAgo: number;
  /** Whether this batch's topic has already inserted in this round. */
  joined: boolean;
}

/** Rounds a partition may start in quick succession after a quiet spell. */
export const ROUND_BURST = 3;

/** A partition's round budget: `tokens` as of `at` (Date.now() ms). */
export interface RoundBudget {
  tokens: number;
  at: number;
}

/** Tokens available at `now`: the budget refilled at one per interval, at most ROUND_BURST; full when new. */
export function tokensAt(budget: RoundBudget | undefined, now: number, intervalMs: number): number {
  if (budget === undefined) return ROUND_BURST;
  return Math.min(ROUND_BURST, budget.tokens + Math.max(0, now - budget.at) / intervalMs);
}

/** What is known about one partition's fetched, not yet stored records. */
export interface PendingBatch {
  /** Records past the stored watermark. */
  rows: number;
  /** Bytes of their values. */
  bytes: number;
  /** The partition number's current round; null when none since it was assigned. */
  round: FlushRound | null;
  /** Round tokens available now (tokensAt). */
  tokens: number;
}

export type FlushReason =
  /** `interval` mode: every fetched batch is inserted. */
  | 'fetched'
  /** As large as an insert should be: a backlog, or heavy traffic. Inserted outside the rounds. */
  | 'large'
  /** A token was there (the sink had caught up, or the deferral is over): a new round starts, using it. */
  | 'round'
  /** Another topic's batch of this partition started a round moments ago: this one joins it. */
  | 'companion';

export type FlushDecision = { flush: true; reason: FlushReason } | { flush: false; waitMs: number };

export function flushDecision(policy: FlushPolicy, batch: PendingBatch): FlushDecision {
  if (policy.mode === 'interval') return { flush: true, reason: 'fetched' };
  if (batch.rows >= policy.insertAtOnceRows || batch.bytes >= policy.insertAtOnceBytes)
    return { flush: true, reason: 'large' };
  const round = batch.round;
  if (round !== null && !round.joined && round.msAgo < policy.intervalMs / 2)
    return { flush: true, reason: 'companion' };
  if (batch.tokens >= 1) return { flush: true, reason: 'round' };
  // Until the next token, at least a millisecond (rounding must not make a busy loop).
  return { flush: false, waitMs: Math.max(1, Math.ceil((1 - batch.tokens) * policy.intervalMs)) };
}

/**
 * The fetch settings of each mode: in `interval` mode the broker does the batching; in `adaptive` mode
 * fetches return at the first record, and the wait only bounds how long an empty fetch is held, which is
 * also how late a deferred partition can be picked up again after it is resumed (it joins the next fetch).
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
