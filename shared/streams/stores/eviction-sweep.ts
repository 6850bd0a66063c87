import type { TransactionalStore } from './transactional-store.ts';

/** Where the sweep's rule puts rows it emits (a task's BatchOutput: same transaction as the state change). */
export interface SweepOutput {
  push(topic: string, key: string, value: Buffer | string | null): void;
  count(name: string, n?: number): void;
}

/**
 * A domain maintenance rule run on each key by the sweep: retention (`evictUnit` / `evictIdentity` with
 * the bound in) and, for units, re-deriving rows under changed project settings (rows go to `out`).
 * The sweep writes `state` back when `evicted > 0` or `changed`.
 */
export type EvictFn<V> = (
  value: V,
  nowMs: number,
  key: string,
  out: SweepOutput,
) => { state: V; evicted: number; changed?: boolean };

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
   * into the store's current batch and the rule's rows into `out`. Returns how many items (tracks,
   * message ids) were evicted.
   */
  step(nowMs: number, out: SweepOutput): number {
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
      const result = this.evict(value, nowMs, next.value, out);
      if (result.evicted > 0 || result.changed === true) {
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
