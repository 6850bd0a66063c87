/**
 * Insert rounds: the batches handled at the same time are stored together, one insert per table instead of
 * one per partition and table (issue 19: an insert's fixed cost, not its rows, filled embedded ClickHouse's
 * connection, and per-partition pacing held records up to an interval each).
 *
 * kafkajs hands a fetch's batches (every assigned partition with records) to concurrent eachBatch calls
 * (`partitionsConsumedConcurrently`) and fetches again only when all of them returned. Each call enters
 * (`enter()`), decodes its records and joins the open round with them, or leaves without (nothing new).
 * The round is gathered when no batch that entered is still on its way to it (or GATHER_MAX_MS after it
 * opened, so one slow batch, e.g. one waiting for the schema registry, cannot hold the others) and runs
 * after the round before it (one round at a time, in order). Once stored, the round may hold its members
 * as flush-decision.ts says (their eachBatch calls, and so the next fetch, wait): pacing happens before
 * the next fetch, never between a fetch and its insert. Every member learns whether its rows are stored;
 * only then does it resolve its offsets.
 *
 * Exactly-once is the stored-offset argument of clickhouse-sink.ts, unchanged: each insert is one atomic
 * part, so it holds a contiguous run of each of its partitions' records entirely or not at all, and the
 * inserts of one table run one after the other.
 */
import type { RoundHold, RoundPacing } from './flush-decision.ts';

/** Longest a round waits for batches that entered but have not joined, ms. */
export const GATHER_MAX_MS = 25;

/** One batch's part in a round: its rows (decoded) and whether they got stored. */
export interface RoundMember<R> {
  readonly rows: number;
  readonly payload: R;
}

/** Runs a round: returns, per member (same order), whether its rows are stored. */
export type RoundRunner<R> = (members: readonly RoundMember<R>[]) => Promise<boolean[]>;

/** Paces the rounds (flush-decision.ts RoundPacer). */
export interface RoundPacerLike {
  started(): void;
  hold(rows: number): RoundHold;
}

interface OpenRound<R> {
  members: RoundMember<R>[];
  settle: ((stored: boolean | Error) => void)[];
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

  constructor(
    private readonly pacer: RoundPacerLike,
    private readonly run: RoundRunner<R>,
    /** Told how each round was paced (metrics). */
    private readonly paced: (pacing: RoundPacing, members: number) => void = () => undefined,
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

  private openRound(): OpenRound<R> {
    if (this.open !== null) return this.open;
    const round: OpenRound<R> = {
      members: [],
      settle: [],
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

  /** The round has gathered: it runs after the round before it, then holds as the pacer says. */
  private schedule(round: OpenRound<R>): void {
    if (round.scheduled) return;
    round.scheduled = true;
    if (round.gatherTimer !== null) clearTimeout(round.gatherTimer);
    this.running = this.running.then(() => this.execute(round));
  }

  private async execute(round: OpenRound<R>): Promise<void> {
    // Batches that came while the round before it ran are in it too; from here on a new round opens.
    if (this.open === round) this.open = null;
    let outcome: boolean[] | Error;
    this.pacer.started();
    try {
      outcome = await this.run(round.members);
    } catch (err) {
      outcome = err instanceof Error ? err : new Error(String(err));
    }
    const { pacing, holdMs } = this.pacer.hold(round.members.reduce((n, m) => n + m.rows, 0));
    this.paced(pacing, round.members.length);
    // Stored (or failed) rows are held, not re-fetched: the next fetch waits for the end of the hold.
    if (holdMs > 0 && !(outcome instanceof Error))
      await new Promise((resolve) => setTimeout(resolve, holdMs));
    round.settle.forEach((settle, i) =>
      settle(outcome instanceof Error ? outcome : (outcome[i] as boolean | undefined) === true),
    );
  }
}
