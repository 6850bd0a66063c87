import type { Database } from 'lmdb';
import type { LiftstreamError } from '../../errors.ts';
import type { LmdbDirectory } from '../../storage/lmdb-directory.ts';
import type { CommittedStorage, StoreChange } from './committed-storage.ts';

/** Keys read per page by a sweep iterator: each page is one short read transaction. */
const KEYS_PAGE = 1_000;
/** Restored records buffered before they are written in one LMDB transaction. */
const RESTORE_BATCH = 10_000;

/**
 * The committed state of task `name` (`<stage>-<partition>`) on disk: an emptied named database in
 * the process's LMDB directory (STATE_DIR). A task that arrives is restored from its changelog into
 * it, as with the in-memory store; the changelog stays the only copy that counts.
 */
export function lmdbStorage(directory: LmdbDirectory, name: string): CommittedStorage {
  return new LmdbStorage(
    directory,
    directory.emptyDatabase<string, string>(name, { encoding: 'string' }),
    name,
  );
}

/**
 * One task's committed state in a named LMDB database. After a failed write the storage no longer
 * equals the changelog, so every later call throws the same STATE_STORAGE error: it can never be
 * read as if nothing had happened.
 */
class LmdbStorage implements CommittedStorage {
  private pending: StoreChange[] = [];
  private broken: LiftstreamError | null = null;

  constructor(
    private readonly directory: LmdbDirectory,
    private readonly db: Database<string, string>,
    private readonly name: string,
  ) {}

  get(key: string): string | undefined {
    this.flushRestored();
    return this.read('reading', () => this.db.get(key));
  }

  has(key: string): boolean {
    this.flushRestored();
    return this.read('reading', () => this.db.doesExist(key));
  }

  write(changes: readonly StoreChange[]): void {
    this.flushRestored();
    this.apply(changes, 'writing committed state');
  }

  restore(key: string, value: string | null): void {
    this.pending.push({ key, value });
    if (this.pending.length >= RESTORE_BATCH) this.flushRestored();
  }

  flush(): void {
    this.flushRestored();
  }

  clear(): void {
    this.guard('clearing', () => this.db.clearSync());
    this.pending = [];
  }

  get size(): number {
    this.flushRestored();
    return this.read('counting', () => (this.db.getStats() as { entryCount: number }).entryCount);
  }

  *keys(): IterableIterator<string> {
    // Pages of keys in key order, each read in its own short transaction, so a sweep that spans many
    // batches never pins an old snapshot (which would stop LMDB from reusing freed pages).
    let after: string | undefined;
    for (;;) {
      this.flushRestored();
      const page: string[] = [];
      const range = after === undefined ? { limit: KEYS_PAGE } : { start: after, limit: KEYS_PAGE + 1 };
      this.read('listing keys', () => {
        for (const key of this.db.getKeys(range)) if (key !== after) page.push(key);
      });
      if (page.length === 0) return;
      yield* page.slice(0, KEYS_PAGE);
      after = page[Math.min(page.length, KEYS_PAGE) - 1];
    }
  }

  drop(): void {
    this.pending = [];
    this.guard('dropping', () => this.db.dropSync());
  }

  private flushRestored(): void {
    if (this.pending.length === 0) return;
    this.apply(this.pending, 'restoring');
    this.pending = [];
  }

  private apply(changes: readonly StoreChange[], what: string): void {
    if (changes.length === 0) return;
    this.guard(what, () => this.directory.writeBatch(this.db, asEntries(changes)));
  }

  private read<T>(what: string, action: () => T): T {
    let out!: T;
    this.guard(what, () => (out = action()));
    return out;
  }

  private guard(what: string, action: () => unknown): void {
    if (this.broken !== null) throw this.broken;
    try {
      action();
    } catch (err) {
      this.broken = this.directory.failure(`${what} ${this.name}`, err);
      throw this.broken;
    }
  }
}

function* asEntries(changes: readonly StoreChange[]): Iterable<readonly [string, string | null]> {
  for (const { key, value } of changes) yield [key, value];
}
