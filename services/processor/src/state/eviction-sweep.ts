import type { TransactionalStore } from './transactional-store.ts';

/** A domain eviction rule: `evictUnit` / `evictIdentity` with the retention bound in. */
export type EvictFn<V> = (value: V, nowMs: number) => { state: V; evicted: number };

export interface EvictionSweepOptions {
  /** Time between the starts of two sweeps over the whole store, ms. */
  intervalMs: number;
  /** Keys examined per step (per transaction), bounding the work added to one batch. */
  keysPerStep: number;
}

/**
 * Walks a task's store incrementally, a few keys per transaction, applying the retention rule, so
 * evictions go through the same transaction (and changelog) as the batch they ride with and a
 * large store never stalls one batch. A sweep starts at most every `intervalMs`; a store that gets
 * no batch is swept when its next batch comes (nothing reads it meanwhile).
 */
export class EvictionSweep<V extends object> {
  private cursor: Iterator<string> | null = null;
  private lastStartMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: TransactionalStore<V>,
    private readonly evict: EvictFn<V>,
    private readonly options: EvictionSweepOptions,
  ) {}

  /**
   * Examines up to `keysPerStep` keys if a sweep is due or under way, writing the trimmed values
   * into the store's current batch. Returns how many items (tracks, message ids) were evicted.
   */
  step(nowMs: number): number {
    if (this.cursor === null) {
      if (nowMs - this.lastStartMs < this.options.intervalMs) return 0;
      this.cursor = this.store.keys();
      this.lastStartMs = nowMs;
    }
    let evicted = 0;
    for (let i = 0; i < this.options.keysPerStep; i++) {
      const next = this.cursor.next();
      if (next.done === true) {
        this.cursor = null;
        break;
      }
      const value = this.store.peek(next.value);
      if (value === undefined) continue;
      const result = this.evict(value, nowMs);
      if (result.evicted > 0) {
        this.store.set(next.value, result.state);
        evicted += result.evicted;
      }
    }
    return evicted;
  }

  /** Starts over (after the store was restored from scratch: the old cursor is meaningless). */
  reset(): void {
    this.cursor = null;
    this.lastStartMs = Number.NEGATIVE_INFINITY;
  }
}
