import { LRUCache } from 'lru-cache';
import { LiftstreamError } from '../../errors.ts';
import type { CommittedStorage, StoreChange } from './committed-storage.ts';

export type { StoreChange } from './committed-storage.ts';

/** A decoded changelog value, or why it cannot be used (a codec never guesses). */
export type Decoded<V> = { ok: true; value: V } | { ok: false; error: string };

/** How a store turns its values into changelog values and back. */
export interface StoreCodec<V> {
  /** Store name, for errors and metrics (`identity`, `units`). */
  name: string;
  encode(value: V): string;
  decode(json: string): Decoded<V>;
  /** A value equal to "never seen": stored as a tombstone (key deleted), not as a value. */
  isEmpty(value: V): boolean;
}

/**
 * A task's key-value store: the committed state plus a copy-on-write overlay for the batch being
 * processed. Reads see the overlay first; `changes()` is what the batch's transaction writes to
 * the changelog (each key once, however many records touched it); after the transaction commits,
 * `commit()` writes those same records into the committed storage, and after an abort `rollback()`
 * drops the overlay, so the store is exactly what the changelog holds up to the last committed
 * transaction.
 *
 * The committed storage keeps values as their changelog JSON (in the heap, or on local disk with
 * STATE_STORE=disk), so restoring copies strings without parsing. Decoded values of recently used
 * keys are kept in a bounded LRU cache, so a hot key is parsed once, not once per batch, while the
 * heap does not grow with the retention window. Values are never mutated (the domain functions
 * return new objects), so a cached object survives a rolled-back batch that read it. Decoding a
 * value this build cannot read throws STATE_CORRUPT: the task must stop, never guess.
 */
export class TransactionalStore<V extends object> {
  /** Decoded committed values of recently used keys. */
  private readonly decoded: LRUCache<string, V>;
  /** Values written in the current batch; null = deleted. */
  private readonly overlay = new Map<string, V | null>();
  /** `changes()` of the current overlay, kept so `commit()` does not encode twice. */
  private encoded: StoreChange[] | null = null;

  constructor(
    private readonly codec: StoreCodec<V>,
    private readonly storage: CommittedStorage,
    cacheKeys: number,
  ) {
    this.decoded = new LRUCache({ max: cacheKeys });
  }

  /** The current value of `key` (overlay first), or undefined when absent. */
  get(key: string): V | undefined {
    return this.read(key, true);
  }

  /**
   * Like get(), without caching what it decodes: for a sweep over every key, which would otherwise
   * push the hot keys out of the cache.
   */
  peek(key: string): V | undefined {
    return this.read(key, false);
  }

  private read(key: string, cache: boolean): V | undefined {
    const written = this.overlay.get(key);
    if (written !== undefined) return written ?? undefined;
    const cached = cache ? this.decoded.get(key) : this.decoded.peek(key);
    if (cached !== undefined) return cached;
    const stored = this.storage.get(key);
    if (stored === undefined) return undefined;
    const result = this.codec.decode(stored);
    if (!result.ok) {
      throw new LiftstreamError('STATE_CORRUPT', `store ${this.codec.name}, key ${key}: ${result.error}`);
    }
    if (cache) this.decoded.set(key, result.value);
    return result.value;
  }

  /** Writes `value` in the current batch (an empty value deletes the key). */
  set(key: string, value: V): void {
    this.overlay.set(key, this.codec.isEmpty(value) ? null : value);
    this.encoded = null;
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
    if (this.encoded !== null) return this.encoded;
    const out: StoreChange[] = [];
    for (const [key, value] of this.overlay) {
      if (value === null) {
        if (this.storage.has(key)) out.push({ key, value: null });
      } else {
        out.push({ key, value: this.codec.encode(value) });
      }
    }
    this.encoded = out;
    return out;
  }

  /** The batch's transaction committed: what it wrote becomes the committed state. */
  commit(): void {
    this.storage.write(this.changes());
    for (const [key, value] of this.overlay) {
      if (value === null) this.decoded.delete(key);
      else this.decoded.set(key, value);
    }
    this.rollback();
  }

  /** The batch's transaction aborted: forget everything it wrote. */
  rollback(): void {
    this.overlay.clear();
    this.encoded = null;
  }

  /** Applies one changelog record while restoring (null value: tombstone). */
  restore(key: string, value: string | null): void {
    this.decoded.delete(key);
    this.storage.restore(key, value);
  }

  /** Writes what the restore buffered (its end). */
  flush(): void {
    this.storage.flush();
  }

  /** Forgets everything (before a full restore). */
  clear(): void {
    this.decoded.clear();
    this.storage.clear();
    this.rollback();
  }

  /** Committed keys. */
  get size(): number {
    return this.storage.size;
  }

  /** A live iterator over committed keys, for incremental sweeps (see CommittedStorage.keys). */
  keys(): IterableIterator<string> {
    return this.storage.keys();
  }

  /** Releases the storage (the task left this instance). */
  drop(): void {
    this.decoded.clear();
    this.rollback();
    this.storage.drop();
  }
}
