import { hasInfraCode } from '../../errors.ts';

/** One changelog record to write: the serialised value, or null for a tombstone. */
export interface StoreChange {
  key: string;
  value: string | null;
}

/**
 * Where a task's committed state lives between batches: serialised values (changelog JSON) by key.
 * It only ever holds what the changelog holds up to the task's last committed transaction, so it is a
 * cache of the changelog, never the only copy: any instance can rebuild it from there.
 */
export interface CommittedStorage {
  get(key: string): string | undefined;
  has(key: string): boolean;
  /** Applies a committed transaction's changes (null: delete), all or nothing. */
  write(changes: readonly StoreChange[]): void;
  /** Applies one changelog record while restoring (may be buffered until the next read or flush). */
  restore(key: string, value: string | null): void;
  /** Writes what restore() buffered (the end of a restore). */
  flush(): void;
  /** Forgets everything (before a full restore). */
  clear(): void;
  /** Number of keys. */
  readonly size: number;
  /**
   * A live iterator over the keys, for incremental sweeps: it survives writes between two steps (a
   * deleted key is skipped; a new key may or may not be visited in this pass).
   */
  keys(): IterableIterator<string>;
  /** Releases the storage for good (the task left this instance). */
  drop(): void;
}

/** Committed state in the heap: as fast as it gets, and as large as the retention window. */
export class MemoryStorage implements CommittedStorage {
  private readonly values = new Map<string, string>();

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  write(changes: readonly StoreChange[]): void {
    for (const { key, value } of changes) this.restore(key, value);
  }

  restore(key: string, value: string | null): void {
    if (value === null) this.values.delete(key);
    else this.values.set(key, value);
  }

  flush(): void {
    // Nothing is buffered.
  }

  clear(): void {
    this.values.clear();
  }

  get size(): number {
    return this.values.size;
  }

  keys(): IterableIterator<string> {
    // A Map iterator survives insertions and deletions.
    return this.values.keys();
  }

  drop(): void {
    this.values.clear();
  }
}

/**
 * State this build cannot read (STATE_CORRUPT) or a local state directory that cannot be written
 * (STATE_STORAGE): the process must stop, never retry or rebuild in a loop.
 */
export function isFatalStateError(error: unknown): boolean {
  return hasInfraCode(error, 'STATE_CORRUPT', 'STATE_STORAGE');
}
