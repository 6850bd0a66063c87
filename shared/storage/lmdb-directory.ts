import fs from 'node:fs';
import path from 'node:path';
import { open, type Database, type DatabaseOptions, type Key, type RootDatabase } from 'lmdb';
import { LiftstreamError } from '../errors.ts';
import {
  claimDirectory,
  type ClaimedDirectory,
  type OwnerLog,
  type OwnerOptions,
} from './directory-owner.ts';
import { localStorageFailure } from './local-storage-errors.ts';
import { assertWritableDir } from './writable-dir.ts';

export { removeStaleDirectories, startTime } from './directory-owner.ts';

/**
 * Address space reserved for the map up front (the file itself grows only as it is used). lmdb-js
 * grows a smaller map by remapping, and the old mapping's pages stay resident alongside the new
 * one's: a 0.8 GB file showed 2.2 GB of RSS after a few remaps, 0.86 GB with this.
 */
const MAP_SIZE = 64 * 1024 ** 3;
const STATE_FILE = 'state.mdb';

/**
 * A process's on-disk cache of state whose real copy lives elsewhere (the processor's changelog
 * topics, the sink's ClickHouse tables): one LMDB environment in a directory of its own under the
 * configured parent (`pid-<pid>-<start time>-<random>`), named databases inside. Memory then holds
 * what the caller caches, and the OS page cache the rest, instead of the whole state.
 *
 * Never trusted across processes: what a process puts here it restored or wrote itself. So nothing
 * is fsynced (`noSync`), a graceful stop deletes the directory, and a process that dies leaves only
 * garbage, which the next process started on the same parent removes: directories whose process is
 * gone. The start time is in the name because pids are reused (a container's process is always pid 1).
 * A parent shared with another host (replicas on one volume) is refused at start: there the cleanup
 * cannot see which directories are alive (`directory-owner.ts`).
 */
export class LmdbDirectory {
  private constructor(
    private readonly claimed: ClaimedDirectory,
    readonly root: RootDatabase,
    /** What the store is, for messages (`processor state store`). */
    readonly what: string,
  ) {}

  /** This process's directory. */
  get dir(): string {
    return this.claimed.dir;
  }

  /**
   * Checks that `parent` (the value of `setting`) is writable and not used by another host, removes dead
   * processes' directories (logged to `logger`), opens this process's.
   */
  static open(
    parent: string,
    opts: { setting: string; what: string; logger?: OwnerLog; owner?: OwnerOptions },
  ): LmdbDirectory {
    assertWritableDir(parent, opts.setting, `the ${opts.what}`);
    let claimed: ClaimedDirectory;
    try {
      claimed = claimDirectory(parent, opts);
    } catch (err) {
      if (err instanceof LiftstreamError) throw err;
      throw storageFailure(
        opts.what,
        `claiming a directory in ${opts.setting} ${JSON.stringify(parent)}`,
        err,
        parent,
      );
    }
    const { dir } = claimed;
    try {
      const root = open({
        path: path.join(dir, STATE_FILE),
        noSync: true,
        noMetaSync: true,
        maxDbs: 1024,
        mapSize: MAP_SIZE,
      });
      return new LmdbDirectory(claimed, root, opts.what);
    } catch (err) {
      claimed.release();
      throw storageFailure(opts.what, `opening the LMDB environment in ${dir}`, err, parent);
    }
  }

  /** The named database `name`, emptied (whatever an earlier holder of the name left is cleared). */
  emptyDatabase<V, K extends Key>(name: string, options: DatabaseOptions): Database<V, K> {
    try {
      // Opening a named database is itself a write transaction.
      const db = this.root.openDB<V, K>(name, options);
      db.clearSync();
      return db;
    } catch (err) {
      throw this.failure(`opening ${name}`, err);
    }
  }

  /** Puts (a value) and removes (null) `entries` in `db`, in one write transaction. */
  writeBatch<V, K extends Key>(db: Database<V, K>, entries: Iterable<readonly [K, V | null]>): void {
    this.root.transactionSync(() => {
      for (const [key, value] of entries) {
        if (value === null) db.removeSync(key);
        else db.putSync(key, value);
      }
    });
  }

  /** STATE_STORAGE for a failed `what` (the cause named: disk full, read-only, permissions). */
  failure(what: string, err: unknown): LiftstreamError {
    return storageFailure(this.what, what, err, this.dir);
  }

  /** Size of the state file, bytes (0 when it cannot be read). */
  fileBytes(): number {
    try {
      return fs.statSync(path.join(this.dir, STATE_FILE)).size;
    } catch {
      return 0;
    }
  }

  /** Closes the environment, stops the heartbeat and deletes the directory (graceful stop). */
  close(): void {
    try {
      void this.root.close();
    } finally {
      this.claimed.release();
    }
  }
}

/**
 * A failed local write leaves the cache behind its real copy. Nothing is lost, but the process cannot
 * go on from this cache: STATE_STORAGE stops it, and a restart restores.
 */
function storageFailure(store: string, what: string, err: unknown, dir: string): LiftstreamError {
  const cause = localStorageFailure(err) ?? fullDisk(dir) ?? (err as Error).message;
  return new LiftstreamError('STATE_STORAGE', `${store}: ${what} failed: ${cause}`, { cause: err });
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
