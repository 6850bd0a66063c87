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
 *   paced by what they cost: the sink spends at most SINK_INSERT_SHARE of its time inserting, so after a
 *   round that took T ms the next fetch waits T × (1 / share − 1), and rounds start at most
 *   SINK_FLUSH_INTERVAL_MS apart (the wait ends then, however long the round took). The load sets the
 *   pace through the insert time: a quiet pipeline's round of a few rows takes a few milliseconds and the
 *   next fetch follows almost at once; heavy traffic makes rounds larger, and a busy machine makes them
 *   slower, so the wait grows until rounds come once per interval, the largest batching. Counting rounds
 *   (a budget of rounds per interval, the first version) could not tell a few probes a second from full
 *   load, which also makes a couple of rounds a second. A round of SINK_BATCH_ROWS rows (a backlog) is
 *   never held.
 *
 * The decision never touches exactly-once: a round's batches are resolved only after their rows are stored.
 */

export type FlushMode = 'adaptive' | 'interval';

export interface FlushPolicy {
  mode: FlushMode;
  /** `adaptive`: the longest time between the starts of two rounds (heavy load), ms. */
  intervalMs: number;
  /** `adaptive`: the share of its time the sink may spend inserting, in (0, 1]. */
  insertShare: number;
  /** A round of at least this many rows is never held (adaptive): SINK_BATCH_ROWS, an insert's size. */
  insertAtOnceRows: number;
}

/** The share of its time the sink may spend inserting when SINK_INSERT_SHARE is not set. */
export const DEFAULT_INSERT_SHARE = 0.25;

export type RoundPacing =
  /** `interval` mode: the broker gathers the next fetch. */
  | 'fetched'
  /** As large as an insert should be (a backlog): the next fetch goes at once. */
  | 'large'
  /** Held by its insert time: T × (1 / share − 1). */
  | 'paced'
  /** Held until an interval after the round began: the insert-time pace reached the interval (heavy load). */
  | 'capped';

export interface RoundHold {
  pacing: RoundPacing;
  /** How long the round's batches are held once stored, so the next fetch waits, ms (0: not held). */
  holdMs: number;
}

/**
 * How long a stored round holds the next fetch, given how long its insert took (`insertMs`): long enough
 * that inserting takes at most the policy's share of the time, and no longer than until an interval after
 * the round began.
 */
export function roundHold(policy: FlushPolicy, insertMs: number, rows: number): RoundHold {
  if (policy.mode === 'interval') return { pacing: 'fetched', holdMs: 0 };
  if (rows >= policy.insertAtOnceRows) return { pacing: 'large', holdMs: 0 };
  const spent = Math.max(0, insertMs);
  const paced = spent * (1 / policy.insertShare - 1);
  const capped = Math.max(0, policy.intervalMs - spent);
  if (paced < capped) return { pacing: 'paced', holdMs: Math.round(paced) };
  return { pacing: 'capped', holdMs: Math.round(capped) };
}

/** The sink's pacer: times each round's insert; `hold` says what to do once it is stored. */
export class RoundPacer {
  private startedAt = 0;

  constructor(
    private readonly policy: FlushPolicy,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A round's insert starts. */
  started(): void {
    this.startedAt = this.now();
  }

  /** The round, of `rows` rows, is stored: how long to hold it. */
  hold(rows: number): RoundHold {
    return roundHold(this.policy, this.now() - this.startedAt, rows);
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
