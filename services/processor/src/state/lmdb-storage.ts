import fs from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { LiftstreamError } from '../../../../shared/errors.ts';
import { localStorageFailure } from '../../../../shared/storage/local-storage-errors.ts';
import { assertWritableDir } from '../../../../shared/storage/writable-dir.ts';
import type { CommittedStorage, StoreChange } from './committed-storage.ts';

/**
 * Address space reserved for the map up front (the file itself grows only as it is used). lmdb-js
 * grows a smaller map by remapping, and the old mapping's pages stay resident alongside the new
 * one's: a 0.8 GB file showed 2.2 GB of RSS after a few remaps, 0.86 GB with this.
 */
const MAP_SIZE = 64 * 1024 ** 3;
/** Keys read per page by a sweep iterator: each page is one short read transaction. */
const KEYS_PAGE = 1_000;
/** Restored records buffered before they are written in one LMDB transaction. */
const RESTORE_BATCH = 10_000;
const STATE_FILE = 'state.mdb';
const DIR_PATTERN = /^pid-(\d+)-(\d*)-/;

/**
 * The processor's on-disk state: one LMDB environment per process, in a directory of its own under
 * STATE_DIR (`pid-<pid>-<start time>-<random>`), one named database per task. Memory then holds a bounded cache
 * (TransactionalStore's decoded values, the OS page cache for the rest), not the retention window.
 *
 * The directory is a cache of the changelogs and is never trusted across processes: a task that
 * arrives is restored from its changelog into an emptied database, as with the in-memory store. So
 * nothing is fsynced (`noSync`), and a process that dies leaves only garbage, which the next process
 * started on the same STATE_DIR removes: directories whose process is gone. The process's start time is
 * in the name because pids are reused (a container's processor is always pid 1).
 */
export class LmdbStateDirectory {
  private constructor(
    readonly dir: string,
    private readonly root: RootDatabase,
  ) {}

  /** Checks that `parent` is writable, removes dead processes' directories, opens this process's. */
  static open(parent: string): LmdbStateDirectory {
    assertWritableDir(parent, 'STATE_DIR', 'the processor state store');
    removeStaleDirectories(parent);
    const dir = fs.mkdtempSync(path.join(parent, `pid-${process.pid}-${startTime(process.pid) ?? ''}-`));
    try {
      const root = open({
        path: path.join(dir, STATE_FILE),
        noSync: true,
        noMetaSync: true,
        maxDbs: 1024,
        mapSize: MAP_SIZE,
      });
      return new LmdbStateDirectory(dir, root);
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw storageError(`opening the LMDB environment in ${dir}`, err, parent);
    }
  }

  /** An empty database for task `name` (whatever an earlier holder of the name left is cleared). */
  storage(name: string): CommittedStorage {
    let db: Database<string, string>;
    try {
      // Opening a named database is itself a write transaction.
      db = this.root.openDB<string, string>(name, { encoding: 'string' });
    } catch (err) {
      throw storageError(`opening ${name}`, err, this.dir);
    }
    const storage = new LmdbStorage(this.root, db, name, this.dir);
    storage.clear();
    return storage;
  }

  /** Size of the state file, bytes (0 when it cannot be read). */
  fileBytes(): number {
    try {
      return fs.statSync(path.join(this.dir, STATE_FILE)).size;
    } catch {
      return 0;
    }
  }

  /** Closes the environment and deletes the directory (graceful stop). */
  close(): void {
    try {
      void this.root.close();
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
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
    private readonly root: RootDatabase,
    private readonly db: Database<string, string>,
    private readonly name: string,
    private readonly dir: string,
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
    this.guard(what, () =>
      this.root.transactionSync(() => {
        for (const { key, value } of changes) {
          if (value === null) this.db.removeSync(key);
          else this.db.putSync(key, value);
        }
      }),
    );
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
      this.broken = storageError(`${what} ${this.name}`, err, this.dir);
      throw this.broken;
    }
  }
}

/**
 * A failed local write leaves the cache behind the changelog. Nothing is lost (the changelog has it),
 * but the task cannot go on from this copy: STATE_STORAGE stops the process, which a restart restores.
 */
function storageError(what: string, err: unknown, dir: string): LiftstreamError {
  const cause = localStorageFailure(err) ?? fullDisk(dir) ?? (err as Error).message;
  return new LiftstreamError('STATE_STORAGE', `processor state store: ${what} failed: ${cause}`, {
    cause: err,
  });
}

/**
 * LMDB reports a short write as EIO ("Input/output error"), which is how a full disk usually shows up
 * there: name it when the directory's file system has (almost) nothing left.
 */
function fullDisk(dir: string): string | null {
  try {
    const { bavail, bsize } = fs.statfsSync(dir);
    const free = bavail * bsize;
    return free < 1024 * 1024 ? `disk full (${free} bytes free in ${dir})` : null;
  } catch {
    return null;
  }
}

/** Removes the directories of processes that are gone (SIGKILL, a crash) so STATE_DIR does not fill up. */
export function removeStaleDirectories(parent: string): void {
  for (const entry of fs.readdirSync(parent)) {
    const match = DIR_PATTERN.exec(entry);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (isAlive(pid)) {
      const started = startTime(pid);
      // Unreadable (hidepid, another pid namespace): keep it rather than delete a live one's.
      if (match[2] === '' || started === null || started === match[2]) continue;
    }
    fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), null off Linux. */
export function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
