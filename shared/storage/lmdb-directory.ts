import fs from 'node:fs';
import path from 'node:path';
import { open, type Database, type DatabaseOptions, type Key, type RootDatabase } from 'lmdb';
import { LiftstreamError } from '../errors.ts';
import { localStorageFailure } from './local-storage-errors.ts';
import { assertWritableDir } from './writable-dir.ts';

/**
 * Address space reserved for the map up front (the file itself grows only as it is used). lmdb-js
 * grows a smaller map by remapping, and the old mapping's pages stay resident alongside the new
 * one's: a 0.8 GB file showed 2.2 GB of RSS after a few remaps, 0.86 GB with this.
 */
const MAP_SIZE = 64 * 1024 ** 3;
const STATE_FILE = 'state.mdb';
const DIR_PATTERN = /^pid-(\d+)-(\d*)-/;

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
 */
export class LmdbDirectory {
  private constructor(
    readonly dir: string,
    readonly root: RootDatabase,
    /** What the store is, for messages (`processor state store`). */
    readonly what: string,
  ) {}

  /**
   * Checks that `parent` (the value of `setting`) is writable, removes dead processes' directories,
   * opens this process's.
   */
  static open(parent: string, opts: { setting: string; what: string }): LmdbDirectory {
    assertWritableDir(parent, opts.setting, `the ${opts.what}`);
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
      return new LmdbDirectory(dir, root, opts.what);
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
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
