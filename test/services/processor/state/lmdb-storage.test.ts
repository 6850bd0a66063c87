import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LmdbStateDirectory,
  removeStaleDirectories,
  startTime,
} from '../../../../services/processor/src/state/lmdb-storage.ts';

const made: string[] = [];
function tempParent(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-lmdb-test-'));
  made.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('LmdbStateDirectory', () => {
  it('opens a directory of its own under STATE_DIR and removes it on close', () => {
    const parent = tempParent();
    const directory = LmdbStateDirectory.open(parent);
    expect(path.dirname(directory.dir)).toBe(parent);
    expect(path.basename(directory.dir)).toMatch(
      new RegExp(`^pid-${process.pid}-${startTime(process.pid)}-`),
    );
    const storage = directory.storage('units-0');
    storage.write([{ key: 'p/u', value: '{"v":1}' }]);
    expect(storage.get('p/u')).toBe('{"v":1}');
    directory.close();
    expect(fs.existsSync(directory.dir)).toBe(false);
  });

  it('a task database starts empty even when the name was used before in the process', () => {
    const parent = tempParent();
    const directory = LmdbStateDirectory.open(parent);
    directory.storage('identity-1').write([{ key: 'k', value: 'old' }]);
    const again = directory.storage('identity-1');
    expect(again.size).toBe(0);
    expect(again.get('k')).toBeUndefined();
    directory.close();
  });

  it("removes dead processes' directories and keeps live ones", () => {
    const parent = tempParent();
    const dead = path.join(parent, `pid-${deadPid()}-123-abc`);
    const reused = path.join(parent, `pid-${process.pid}-1-abc`);
    const live = path.join(parent, `pid-${process.pid}-${startTime(process.pid)}-abc`);
    const foreign = path.join(parent, 'not-ours');
    for (const dir of [dead, reused, live, foreign]) fs.mkdirSync(dir);
    removeStaleDirectories(parent);
    expect(fs.existsSync(dead), 'pid gone').toBe(false);
    expect(fs.existsSync(reused), 'pid alive but another start time: reused pid').toBe(false);
    expect(fs.existsSync(live), 'this very process').toBe(true);
    expect(fs.existsSync(foreign), 'not a state directory').toBe(true);
  });

  it('refuses a STATE_DIR it cannot write, naming the setting, the path and the cause', () => {
    const parent = tempParent();
    const file = path.join(parent, 'a-file');
    fs.writeFileSync(file, '');
    const bad = path.join(file, 'state');
    expect(() => LmdbStateDirectory.open(bad)).toThrow(
      `the processor state store cannot use STATE_DIR ${JSON.stringify(bad)}`,
    );
  });

  it('lists keys page by page while keys are deleted, each remaining key once', () => {
    const directory = LmdbStateDirectory.open(tempParent());
    const storage = directory.storage('units-0');
    const all = Array.from({ length: 2_500 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    storage.write(all.map((key) => ({ key, value: 'v' })));
    const seen: string[] = [];
    for (const key of storage.keys()) {
      seen.push(key);
      // At the end of the first page: delete the key just read and the next one.
      if (seen.length === 1_000)
        storage.write([
          { key, value: null },
          { key: all[1_000]!, value: null },
        ]);
    }
    expect(seen.length).toBe(2_499);
    expect(new Set(seen).size, 'no key twice').toBe(2_499);
    expect(seen).not.toContain(all[1_000]);
    directory.close();
  });

  it('after a failed write every call throws the same STATE_STORAGE error', () => {
    const directory = LmdbStateDirectory.open(tempParent());
    const storage = directory.storage('units-0');
    storage.write([{ key: 'p/a', value: 'v' }]);
    // LMDB refuses keys over ~2 kB: a real failed write, all or nothing.
    const failed = (): void =>
      storage.write([
        { key: 'p/b', value: 'v' },
        { key: 'k'.repeat(4_000), value: 'v' },
      ]);
    expect(failed).toThrow(/processor state store: writing committed state units-0 failed/);
    let again: unknown;
    try {
      storage.get('p/a');
    } catch (err) {
      again = err;
    }
    expect(again, 'reads refuse too: the storage may be behind the changelog').toMatchObject({
      code: 'STATE_STORAGE',
    });
    expect(() => storage.restore('p/c', 'v')).not.toThrow();
    expect(() => storage.flush()).toThrow(/STATE_STORAGE|writing committed state/);
    directory.close();
  });
});
