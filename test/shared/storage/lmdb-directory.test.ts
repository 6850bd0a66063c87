import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbDirectory, removeStaleDirectories, startTime } from '../../../shared/storage/lmdb-directory.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const tempParent = (): string => tempDir('liftstream-lmdb-test-');

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const open = (parent: string): LmdbDirectory =>
  LmdbDirectory.open(parent, { setting: 'STATE_DIR', what: 'processor state store' });

describe('LmdbDirectory', () => {
  it('opens a directory of its own under STATE_DIR and removes it on close', () => {
    const parent = tempParent();
    const directory = open(parent);
    expect(path.dirname(directory.dir)).toBe(parent);
    expect(path.basename(directory.dir)).toMatch(
      new RegExp(`^pid-${process.pid}-${startTime(process.pid)}-`),
    );
    const db = directory.emptyDatabase<string, string>('units-0', { encoding: 'string' });
    db.putSync('p/u', '{"v":1}');
    expect(db.get('p/u')).toBe('{"v":1}');
    directory.close();
    expect(fs.existsSync(directory.dir)).toBe(false);
  });

  it('a database starts empty even when the name was used before in the process', () => {
    const parent = tempParent();
    const directory = open(parent);
    directory.emptyDatabase<string, string>('identity-1', { encoding: 'string' }).putSync('k', 'old');
    const again = directory.emptyDatabase<string, string>('identity-1', { encoding: 'string' });
    expect(again.getStats()).toMatchObject({ entryCount: 0 });
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
    expect(() => open(bad)).toThrow(`the processor state store cannot use STATE_DIR ${JSON.stringify(bad)}`);
  });
});
