/**
 * Which experiments to evaluate, and when. The sink reports the experiments of every insert it stores, many
 * times a second for a busy experiment; each is evaluated at most once per `minIntervalMs`, and changes
 * reported while it waits or is being evaluated fold into its next evaluation, which then reads all of
 * them. Evaluations run one round at a time, a round taking every experiment due (at most `maxBatch`), so
 * experiments evaluated together fall due together again and busy ones share a round (and its queries). The
 * cost is bounded by the number of experiments that change (at most one evaluation each per interval), not
 * by the rate of inserts, and what is pending is at most one entry per changed experiment.
 */

export interface EvaluationQueueOptions {
  /** Least time between the starts of two evaluations of one experiment, ms. */
  minIntervalMs: number;
  /** Most experiments in one round. */
  maxBatch: number;
  /** Evaluates a round of experiments (their keys); must not throw (a failure re-adds them, with a delay). */
  run(keys: string[]): Promise<void>;
  /** Wall clock, unix ms. */
  now?: () => number;
}

/** When a change of an experiment last evaluated at `lastStartedAt` (if ever) may be evaluated, unix ms. */
export function dueAt(
  lastStartedAt: number | undefined,
  now: number,
  minIntervalMs: number,
  delayMs = 0,
): number {
  return Math.max(now + delayMs, lastStartedAt === undefined ? now : lastStartedAt + minIntervalMs);
}

export class EvaluationQueue {
  /** Key → when it is due, unix ms. */
  private readonly pending = new Map<string, number>();
  /** Key → when its last evaluation started; entries older than the interval are pruned. */
  private readonly lastStarted = new Map<string, number>();
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: EvaluationQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Experiments waiting for an evaluation. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Asks for an evaluation of `key` no sooner than `delayMs` from now (nor within the interval of its last
   * one). Already pending: nothing changes, its evaluation will read this change too.
   */
  add(key: string, delayMs = 0): void {
    if (this.stopped || this.pending.has(key)) return;
    this.pending.set(key, dueAt(this.lastStarted.get(key), this.now(), this.opts.minIntervalMs, delayMs));
    this.schedule();
  }

  /** Forgets what is pending and waits for the evaluation in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pending.clear();
    await this.current;
  }

  private schedule(): void {
    if (this.running || this.stopped) return;
    clearTimeout(this.timer);
    const now = this.now();
    const round: string[] = [];
    let nextDue = Infinity;
    for (const [key, due] of this.pending) {
      if (due <= now && round.length < this.opts.maxBatch) round.push(key);
      else nextDue = Math.min(nextDue, due);
    }
    if (round.length === 0) {
      if (nextDue < Infinity) this.timer = setTimeout(() => this.schedule(), nextDue - now);
      return;
    }
    for (const key of round) {
      this.pending.delete(key);
      this.lastStarted.set(key, now);
    }
    this.running = true;
    this.current = this.opts
      .run(round)
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        this.prune();
        this.schedule();
      });
  }

  /** Drops start times that no longer delay anything, so the map holds only recently evaluated experiments. */
  private prune(): void {
    if (this.lastStarted.size < 1_000) return;
    const now = this.now();
    for (const [key, at] of this.lastStarted) {
      if (now - at >= this.opts.minIntervalMs) this.lastStarted.delete(key);
    }
  }
}
