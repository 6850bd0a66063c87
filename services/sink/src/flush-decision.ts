/**
 * When the sink's next insert round goes in, pure (issue 19). ClickHouse wants few, large inserts (each is a
 * part that merges must later combine, and an insert has a fixed cost of several milliseconds whatever its
 * size); results want each record stored soon after the processor committed it.
 *
 * The sink inserts in rounds (insert-rounds.ts): the batches of every partition handled at the same time
 * (kafkajs hands over one fetch's batches together) are stored with one insert per table, not one per
 * partition and table. While a round is being inserted the next fetch waits, so records arriving meanwhile
 * make the next round larger: the load sets the batch size. Two policies (SINK_FLUSH_MODE) say how often
 * rounds may come:
 *
 * - `interval` (the behaviour before issue 19): the broker holds each fetch until SINK_FETCH_MIN_BYTES are
 *   available or SINK_FLUSH_INTERVAL_MS passed; the round goes in at once and the next fetch follows.
 *   Light traffic waits the whole interval; an idle pipeline's results take about that long to move.
 * - `adaptive`: fetches return as soon as a record is there and every round goes in at once. Rounds are
 *   paced by a budget of ROUND_BURST tokens, one spent per round and one refilled per
 *   SINK_FLUSH_INTERVAL_MS: while a token is left the next fetch follows at once (a quiet pipeline:
 *   sporadic records go straight in), and once the budget is spent (steady traffic) a stored round holds
 *   the next fetch until the next token, so steady traffic gets one round per interval, gathering what
 *   arrives meanwhile in the broker. A round of SINK_BATCH_ROWS rows (a backlog) is never held.
 *
 * The decision never touches exactly-once: a round's batches are resolved only after their rows are stored.
 */

export type FlushMode = 'adaptive' | 'interval';

export interface FlushPolicy {
  mode: FlushMode;
  /** `adaptive`: one round per interval under steady traffic (after a burst of ROUND_BURST), ms. */
  intervalMs: number;
  /** A round of at least this many rows is never held (adaptive): SINK_BATCH_ROWS, an insert's size. */
  insertAtOnceRows: number;
}

export type RoundPacing =
  /** `interval` mode: the broker gathers the next fetch. */
  | 'fetched'
  /** A round budget token was left (the sink had caught up): the next fetch goes at once. */
  | 'idle'
  /** As large as an insert should be (a backlog, or heavy traffic): the next fetch goes at once. */
  | 'large'
  /** The budget is spent (steady traffic): the next fetch waits for the next token. */
  | 'paced';

export interface RoundHold {
  pacing: RoundPacing;
  /** How long the round's batches are held once stored, so the next fetch waits, ms (0: not held). */
  holdMs: number;
}

/** Rounds that may follow each other at once after a quiet spell (a probe's exposure, then its purchase). */
export const ROUND_BURST = 3;

/**
 * How long a stored round holds the next fetch: while the round budget (`tokens` left after this round,
 * one refilled per interval, at most ROUND_BURST) has a token, not at all; otherwise until the next token.
 * Holding the fetch rather than the round means a record waits at most about one interval to be fetched and
 * is then inserted at once: pacing the inserts themselves made a record wait for its fetch and again for
 * its round (two intervals).
 */
export function roundHold(policy: FlushPolicy, tokens: number, rows: number): RoundHold {
  if (policy.mode === 'interval') return { pacing: 'fetched', holdMs: 0 };
  if (rows >= policy.insertAtOnceRows) return { pacing: 'large', holdMs: 0 };
  if (tokens >= 1) return { pacing: 'idle', holdMs: 0 };
  // Until the next token, at least a millisecond (rounding must not make a busy loop).
  return { pacing: 'paced', holdMs: Math.max(1, Math.ceil((1 - tokens) * policy.intervalMs)) };
}

/** A round budget: `tokens` as of `at` (ms on the pacer's clock). */
interface RoundBudget {
  tokens: number;
  at: number;
}

/** Tokens available at `now`: the budget refilled at one per interval, at most ROUND_BURST; full when new. */
export function tokensAt(budget: RoundBudget | undefined, now: number, intervalMs: number): number {
  if (budget === undefined) return ROUND_BURST;
  return Math.min(ROUND_BURST, budget.tokens + Math.max(0, now - budget.at) / intervalMs);
}

/** The sink's round budget: each round spends a token when it starts; `hold` says what to do once stored. */
export class RoundPacer {
  private budget: RoundBudget | undefined;

  constructor(
    private readonly policy: FlushPolicy,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A round starts: it spends a token (none below zero). */
  started(): void {
    const now = this.now();
    this.budget = { tokens: Math.max(0, tokensAt(this.budget, now, this.policy.intervalMs) - 1), at: now };
  }

  /** A round of `rows` rows is stored: how long to hold it. */
  hold(rows: number): RoundHold {
    return roundHold(this.policy, tokensAt(this.budget, this.now(), this.policy.intervalMs), rows);
  }

  /** A new assignment: a full budget (a partition that came back goes in at once). */
  reset(): void {
    this.budget = undefined;
  }
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
