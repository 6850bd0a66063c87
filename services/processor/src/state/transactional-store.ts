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
 * `commit()` folds the overlay into the committed state, and after an abort `rollback()` drops
 * it, so the store is exactly what the changelog holds up to the last committed transaction.
 *
 * Committed values restored from the changelog are kept as their JSON (a compact string, about a
 * third of the decoded object's heap) and decoded on first read, after which the decoded value is
 * kept: cold keys stay compact and restoring copies strings without parsing, while hot keys are
 * parsed once, not once per batch. Values are never mutated (the domain functions return new
 * objects), so the committed object survives a rolled-back batch that read it. Decoding a value
 * this build cannot read throws STATE_CORRUPT: the task must stop, never guess.
 */
export class TransactionalStore<V extends object> {
  /** Committed values: changelog JSON until first read, then the decoded value. */
  private readonly committed = new Map<string, string | V>();
  /** Values written in the current batch; null = deleted. */
  private readonly overlay = new Map<string, V | null>();

  constructor(private readonly codec: StoreCodec<V>) {}

  /** The current value of `key` (overlay first), or undefined when absent. */
  get(key: string): V | undefined {
    const written = this.overlay.get(key);
    if (written !== undefined) return written ?? undefined;
    const stored = this.committed.get(key);
    if (typeof stored !== 'string') return stored;
    const result = this.codec.decode(stored);
    if (!result.ok) {
      throw new LiftstreamError('STATE_CORRUPT', `store ${this.codec.name}, key ${key}: ${result.error}`);
    }
    this.committed.set(key, result.value);
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

  /** The batch's transaction committed: what it wrote becomes the committed state. */
  commit(): void {
    for (const [key, value] of this.overlay) {
      if (value === null) this.committed.delete(key);
      else this.committed.set(key, value);
    }
    this.overlay.clear();
  }

  /** The batch's transaction aborted: forget everything it wrote. */
  rollback(): void {
    this.overlay.clear();
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
