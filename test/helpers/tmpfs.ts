/**
 * A small tmpfs of a test's own, to give a process a real full (or read-only) disk. Mounting needs root
 * with CAP_SYS_ADMIN, which the machines this suite runs on (sessions and CI) have.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class Tmpfs {
  private constructor(readonly dir: string) {}

  static mount(name: string, opts: { sizeMb: number; readOnly?: boolean }): Tmpfs {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    const options = [`size=${opts.sizeMb}m`, ...(opts.readOnly ? ['ro'] : [])].join(',');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    } catch (err) {
      fs.rmdirSync(dir);
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`cannot mount a tmpfs for this test (needs root with CAP_SYS_ADMIN): ${stderr ?? err}`);
    }
    return new Tmpfs(dir);
  }

  private get filler(): string {
    return path.join(this.dir, 'filler');
  }

  /** Takes every free byte, so the next write of anyone else on this file system fails with ENOSPC. */
  fill(): void {
    const fd = fs.openSync(this.filler, 'a');
    const chunk = Buffer.alloc(64 * 1024, 0xff);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      // The last partial chunk: fill the remaining bytes one block at a time.
      const block = Buffer.alloc(512, 0xff);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Frees what fill() took. */
  unfill(): void {
    fs.rmSync(this.filler, { force: true });
  }

  freeBytes(): number {
    const stats = fs.statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  unmount(): void {
    try {
      execFileSync('umount', ['--lazy', this.dir], { stdio: 'pipe' });
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
