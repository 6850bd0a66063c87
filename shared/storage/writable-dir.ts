import fs from 'node:fs';
import path from 'node:path';
import { localStorageFailure } from './local-storage-errors.ts';

/**
 * Creates `dir` if needed and proves this process can write there, or throws naming the setting, the
 * directory and the cause. access() says yes to root whatever the mode, so the proof is a real write,
 * which also catches read-only mounts and full disks.
 */
export function assertWritableDir(dir: string, setting: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    const probe = path.join(dir, `.write-probe-${process.pid}`);
    try {
      fs.writeFileSync(probe, 'ok');
    } finally {
      // A write that fails on a full disk has already created the file.
      fs.rmSync(probe, { force: true });
    }
  } catch (err) {
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    throw new Error(
      `${what} cannot use ${setting} ${JSON.stringify(path.resolve(dir))}: ` +
        `${localStorageFailure(err) ?? (err as Error).message}. It must be a directory this process${uid} can write.`,
      { cause: err },
    );
  }
}
