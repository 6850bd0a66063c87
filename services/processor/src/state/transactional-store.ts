import { LiftstreamError } from '../../../../shared/errors.ts';
import type { Decoded } from '../domain/versioned-json.ts';

/** How a store turns its values into changelog values and back. */
export interface StoreCodec<V> {
  /** Store name, for errors and metrics (`identity`, `units`). */
  name: string;
  encode(value: V): string;
  decode(json: string): Decoded<V>;
  /** A value equal to "never seen": stored as a tombstone (key deleted), not as a value. */
  isEmpty(value: V): boolean;
}

/** One changelog record to write: the serialised value, or null for a tombstone. */
export interface StoreChange {
  key: string;
  value: string | null;
}

/**
 * A task's key-value store: the committed state plus a copy-on-write overlay for the batch being
 * processed. Reads see the overlay first; `changes()` is what the batch's transaction writes to
 * the changelog (each key once, however many records touched it); after the transaction commits,
 * `commit(changes)` folds them into the committed state, and after an abort `rollback()` drops
 * them, so the store is exactly what the changelog holds up to the last committed transaction.
 *
 * Committed values are kept as their changelog JSON (a compact string, ~1/3 of the decoded
 * object's heap) and decoded on first use in a batch: restoring copies strings without parsing,
 * and a key is decoded at most once per batch. Decoding a value this build cannot read throws
 * STATE_CORRUPT: the task must stop, never guess.
 */
export class TransactionalStore<V> {
  private readonly committed = new Map<string, string>();
  /** Values written in the current batch; null = deleted. */
  private readonly overlay = new Map<string, V | null>();
  /** Values decoded from `committed` in the current batch (not dirty). */
  private readonly decoded = new Map<string, V>();

  constructor(private readonly codec: StoreCodec<V>) {}

  /** The current value of `key` (overlay first), or undefined when absent. */
  get(key: string): V | undefined {
    const written = this.overlay.get(key);
    if (written !== undefined) return written ?? undefined;
    const cached = this.decoded.get(key);
    if (cached !== undefined) return cached;
    const json = this.committed.get(key);
    if (json === undefined) return undefined;
    const result = this.codec.decode(json);
    if (!result.ok) {
      throw new LiftstreamError('STATE_CORRUPT', `store ${this.codec.name}, key ${key}: ${result.error}`);
    }
    this.decoded.set(key, result.value);
    return result.value;
  }

  /** Writes `value` in the current batch (an empty value deletes the key). */
  set(key: string, value: V): void {
    this.overlay.set(key, this.codec.isEmpty(value) ? null : value);
  }

  /** True when the current batch wrote something. */
  get dirty(): boolean {
    return this.overlay.size > 0;
  }

  /**
   * The changelog records of the current batch: one per written key, tombstones for deletions.
   * A key deleted that was never committed needs no tombstone.
   */
  changes(): StoreChange[] {
    const out: StoreChange[] = [];
    for (const [key, value] of this.overlay) {
      if (value === null) {
        if (this.committed.has(key)) out.push({ key, value: null });
      } else {
        out.push({ key, value: this.codec.encode(value) });
      }
    }
    return out;
  }

  /** The batch's transaction committed: `changes` (from `changes()`) become the committed state. */
  commit(changes: readonly StoreChange[]): void {
    for (const { key, value } of changes) {
      if (value === null) this.committed.delete(key);
      else this.committed.set(key, value);
    }
    this.overlay.clear();
    this.decoded.clear();
  }

  /** The batch's transaction aborted: forget everything it wrote. */
  rollback(): void {
    this.overlay.clear();
    this.decoded.clear();
  }

  /** Applies one changelog record while restoring (null value: tombstone). */
  restore(key: string, value: string | null): void {
    if (value === null) this.committed.delete(key);
    else this.committed.set(key, value);
  }

  /** Forgets everything (before a full restore). */
  clear(): void {
    this.committed.clear();
    this.rollback();
  }

  /** Committed keys. */
  get size(): number {
    return this.committed.size;
  }

  /**
   * A live iterator over committed keys, for incremental sweeps: a Map iterator survives
   * insertions and deletions (deleted keys are skipped, new keys visited).
   */
  keys(): IterableIterator<string> {
    return this.committed.keys();
  }
}
