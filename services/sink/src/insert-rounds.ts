/**
 * Insert rounds: the batches handled at the same time are stored together, one insert per table instead of
 * one per partition and table (issue 19: an insert's fixed cost, not its rows, filled embedded ClickHouse's
 * connection, and per-partition pacing held records up to an interval each).
 *
 * kafkajs hands a fetch's batches (every assigned partition with records) to concurrent eachBatch calls
 * (`partitionsConsumedConcurrently`) and fetches again only when all of them returned. Each call enters
 * (`enter()`), decodes its records and joins the open round with them, or leaves without (nothing new).
 * The round is gathered when no batch that entered is still on its way to it (or GATHER_MAX_MS after it
 * opened, so one slow batch, e.g. one waiting for the schema registry, cannot hold the others); it then
 * waits as flush-decision.ts says, after the round before it has finished (one round at a time, in
 * order), and runs. Every member learns whether its rows are stored; only then does it resolve its offsets.
 *
 * Exactly-once is the stored-offset argument of clickhouse-sink.ts, unchanged: each insert is one atomic
 * part, so it holds a contiguous run of each of its partitions' records entirely or not at all, and the
 * inserts of one table run one after the other.
 */
import type { RoundStart, RoundTiming } from './flush-decision.ts';

/** Longest a round waits for batches that entered but have not joined, ms. */
export const GATHER_MAX_MS = 25;

/** One batch's part in a round: its rows (decoded) and whether they got stored. */
export interface RoundMember<R> {
  readonly rows: number;
  readonly payload: R;
}

/** Runs a round: returns, per member (same order), whether its rows are stored. */
export type RoundRunner<R> = (members: readonly RoundMember<R>[], start: RoundStart) => Promise<boolean[]>;

interface OpenRound<R> {
  members: RoundMember<R>[];
  settle: ((stored: boolean | Error) => void)[];
  openedAt: number;
  gatherTimer: NodeJS.Timeout | null;
  scheduled: boolean;
}

/** A batch being handled: it joins a round with its rows, or leaves (nothing to store, or it stopped). */
export interface RoundTicket<R> {
  /** Resolves true once the rows are stored, false when they were not (stopping, stale); rejects on error. */
  join(rows: number, payload: R): Promise<boolean>;
  /** Idempotent; a ticket that joined has already left. */
  leave(): void;
}

export class InsertRounds<R> {
  /** Batches that entered and have neither joined nor left. */
  private onTheirWay = 0;
  private open: OpenRound<R> | null = null;
  /** The round being inserted (rounds run one at a time). */
  private running: Promise<void> = Promise.resolve();
  private lastRoundStartedAt: number | null = null;

  constructor(
    private readonly timing: (sinceLastRoundMs: number | null, rows: number) => RoundTiming,
    private readonly run: RoundRunner<R>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  enter(): RoundTicket<R> {
    this.onTheirWay += 1;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.onTheirWay -= 1;
      this.maybeGathered();
    };
    return {
      join: (rows, payload) => {
        if (left) throw new Error('a batch joined a round after leaving');
        const round = this.openRound();
        const stored = new Promise<boolean>((resolve, reject) => {
          round.members.push({ rows, payload });
          round.settle.push((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
        });
        leave();
        return stored;
      },
      leave,
    };
  }

  /** Forgets the pacing (a new assignment: a partition that came back goes in at once). */
  reset(): void {
    this.lastRoundStartedAt = null;
  }

  private openRound(): OpenRound<R> {
    if (this.open !== null) return this.open;
    const round: OpenRound<R> = {
      members: [],
      settle: [],
      openedAt: this.now(),
      gatherTimer: null,
      scheduled: false,
    };
    round.gatherTimer = setTimeout(() => this.schedule(round), GATHER_MAX_MS);
    this.open = round;
    return round;
  }

  private maybeGathered(): void {
    if (this.open !== null && this.onTheirWay === 0) this.schedule(this.open);
  }

  /** The round has gathered: after the round before it, wait as the policy says, then run it. */
  private schedule(round: OpenRound<R>): void {
    if (round.scheduled) return;
    round.scheduled = true;
    if (round.gatherTimer !== null) clearTimeout(round.gatherTimer);
    this.running = this.running.then(async () => {
      const since = this.lastRoundStartedAt === null ? null : this.now() - this.lastRoundStartedAt;
      const rows = round.members.reduce((n, m) => n + m.rows, 0);
      const { start, waitMs } = this.timing(since, rows);
      // Batches arriving while it waits still join it (it stays open until it runs).
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      if (this.open === round) this.open = null;
      this.lastRoundStartedAt = this.now();
      await this.execute(round, start);
    });
  }

  private async execute(round: OpenRound<R>, start: RoundStart): Promise<void> {
    try {
      const stored = await this.run(round.members, start);
      round.settle.forEach((settle, i) => settle(stored[i] === true));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      round.settle.forEach((settle) => settle(error));
    }
  }
}
