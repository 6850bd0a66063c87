import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** Replace an existing file; otherwise an existing file is left alone and EEXIST thrown. */
  replace: boolean;
  /** Exact permission bits (to keep an edited file's); default: 0o666 less the umask, as for any new file. */
  mode?: number;
}

/**
 * Writes `file` so that a reader (or a crash) sees the old content or the new, never a part: a temp file
 * in the same directory (same filesystem, so rename is atomic), fsynced, then renamed over `file`, or
 * hard-linked to it when nothing may be replaced (link fails if `file` exists, without a race).
 * Errors are Node's (ENOENT for a missing directory, EEXIST, EACCES ...); the temp file is removed.
 */
export function writeFileAtomic(file: string, text: string, opts: AtomicWriteOptions): void {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'wx');
  try {
    try {
      if (opts.mode !== undefined) fs.fchmodSync(fd, opts.mode);
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (opts.replace) fs.renameSync(temp, file);
    else linkNoReplace(temp, file);
    fsyncDirectory(dir);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function linkNoReplace(temp: string, file: string): void {
  try {
    fs.linkSync(temp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Filesystems without hard links: check, then rename (a race with another writer is possible there).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    if (fs.existsSync(file))
      throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: 'EEXIST' });
    fs.renameSync(temp, file);
  }
}

/** Makes the rename itself durable. Some platforms cannot open or fsync a directory: then the OS decides. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort, see above
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
