/**
 * Adaptive flush state of one sink (flush-decision.ts decides): per partition number the current round of
 * the co-partitioned topics and its token bucket, and the partitions paused until their deferred batch is due.
 */
import { flushDecision, tokensAt } from './flush-decision.ts';
import type { RoundBudget } from './flush-decision.ts';
import type { FetchedRecord, SinkContext } from './sink-context.ts';
import { SINK_TABLES } from './sink-rows.ts';
import type { SinkTable } from './sink-rows.ts';

export class FlushRounds {
  /** Per partition number, the current flush round of the co-partitioned topics (adaptive flush). */
  private readonly rounds = new Map<number, { startedAt: number; joined: Set<SinkTable> }>();
  /** Per partition number, the token bucket pacing its rounds (adaptive flush). */
  private readonly roundBudgets = new Map<number, RoundBudget>();
  /** Partitions paused until their deferred batch is due (adaptive flush), with the timer resuming them. */
  private readonly deferred = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();

  constructor(private readonly ctx: SinkContext) {}

  /** Whether a batch of `fresh` records of `table` is inserted now; if not, its partition is deferred. */
  admit(table: SinkTable, topic: string, partition: number, fresh: readonly FetchedRecord[]): boolean {
    const now = Date.now();
    const round = this.rounds.get(partition);
    const tokens = tokensAt(this.roundBudgets.get(partition), now, this.ctx.flushPolicy.intervalMs);
    const decision = flushDecision(this.ctx.flushPolicy, {
      rows: fresh.length,
      bytes: fresh.reduce((n, r) => n + (r.value?.length ?? 0), 0),
      round: round === undefined ? null : { msAgo: now - round.startedAt, joined: round.joined.has(table) },
      tokens,
    });
    this.ctx.metrics.flushDecisions.inc({ decision: decision.flush ? decision.reason : 'deferred' });
    if (!decision.flush) {
      // Nothing resolved: the records are fetched again, with what arrives meanwhile, when this is due.
      this.defer(topic, partition, decision.waitMs);
      return false;
    }
    if (decision.reason === 'round') {
      this.rounds.set(partition, { startedAt: now, joined: new Set([table]) });
      this.roundBudgets.set(partition, { tokens: tokens - 1, at: now });
      // The other topics' batches of this partition, if they wait, join the round now.
      for (const other of SINK_TABLES) {
        if (other !== table) this.resumeDeferred(this.ctx.topics[other], partition);
      }
    } else if (decision.reason === 'companion') round?.joined.add(table);
    return true;
  }

  /** Forgets every round and budget and ends every deferral, resuming its partition (a new assignment). */
  reset(): void {
    this.rounds.clear();
    this.roundBudgets.clear();
    this.clearDeferred(true);
  }

  /**
   * Adaptive flush: pause the partition (so it is not fetched again and again meanwhile) and resume it when
   * its batch is due; the next fetch then brings the deferred records and what arrived since. Only the
   * resume runs outside eachBatch: inserts stay inside it, under the group's ownership of the partition.
   */
  private defer(topic: string, partition: number, waitMs: number): void {
    const key = `${topic}:${partition}`;
    const consumer = this.ctx.consumer;
    if (consumer === null || this.deferred.has(key)) return;
    consumer.pause([{ topic, partitions: [partition] }]);
    const timer = setTimeout(() => {
      this.deferred.delete(key);
      if (!this.ctx.stopping) this.ctx.consumer?.resume([{ topic, partitions: [partition] }]);
    }, waitMs);
    this.deferred.set(key, { topic, partition, timer });
  }

  /** Ends one partition's deferral early: it joins the next fetch. */
  private resumeDeferred(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    const deferred = this.deferred.get(key);
    if (deferred === undefined) return;
    clearTimeout(deferred.timer);
    this.deferred.delete(key);
    this.ctx.consumer?.resume([{ topic, partitions: [partition] }]);
  }

  /** Cancels every deferral; `resume`: and resumes the partitions (an assignment), else leaves them (a stop). */
  clearDeferred(resume: boolean): void {
    for (const { topic, partition, timer } of this.deferred.values()) {
      clearTimeout(timer);
      if (resume) this.ctx.consumer?.resume([{ topic, partitions: [partition] }]);
    }
    this.deferred.clear();
  }
}
