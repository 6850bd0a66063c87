import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../infra/local/paths.ts';
import {
  claimDirectory,
  OWNER_FILE,
  startTime,
  writeOwnerRecord,
  type ClaimedDirectory,
} from '../../../shared/storage/directory-owner.ts';
import type { OwnerRecord } from '../../../shared/storage/directory-owner-rule.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const tempParent = (): string => tempDir('liftstream-owner-test-');

const claimed: ClaimedDirectory[] = [];
afterEach(() => {
  for (const c of claimed.splice(0)) c.release();
});

interface LogLine {
  level: 'info' | 'error';
  obj: object;
  msg: string;
}

function claim(parent: string, hostname: string, extra: { heartbeatMs?: number } = {}) {
  const logs: LogLine[] = [];
  const logger = {
    info: (obj: object, msg: string) => logs.push({ level: 'info', obj, msg }),
    error: (obj: object, msg: string) => logs.push({ level: 'error', obj, msg }),
  };
  const directory = claimDirectory(parent, {
    setting: 'STATE_DIR',
    what: 'processor state store',
    logger,
    owner: { hostname, staleAfterMs: 30_000, ...extra },
  });
  claimed.push(directory);
  return { directory, logs };
}

/** A directory left by `record`'s process, last heartbeat `ageMs` ago. */
function holderDir(parent: string, record: OwnerRecord, ageMs: number): string {
  const dir = path.join(parent, `pid-${record.pid}-${record.startTime ?? ''}-x1y2z3`);
  fs.mkdirSync(dir);
  writeOwnerRecord(dir, record);
  const at = new Date(Date.now() - ageMs);
  fs.utimesSync(path.join(dir, OWNER_FILE), at, at);
  return dir;
}

const otherHost = (pid = 1): OwnerRecord => ({
  hostname: 'replica-b',
  pid,
  startTime: '4242',
  startedAt: '2025-06-01T11:00:00.000Z',
});

describe('claimDirectory', () => {
  it('writes an owner record naming this host and process, and heartbeats it', async () => {
    const parent = tempParent();
    const { directory } = claim(parent, 'replica-a', { heartbeatMs: 20 });
    const record = JSON.parse(fs.readFileSync(path.join(directory.dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    expect(record).toMatchObject({
      hostname: 'replica-a',
      pid: process.pid,
      startTime: startTime(process.pid),
    });
    const file = path.join(directory.dir, OWNER_FILE);
    fs.utimesSync(file, new Date(0), new Date(0));
    await new Promise((r) => setTimeout(r, 150));
    expect(Date.now() - fs.statSync(file).mtimeMs, 'touched within the last heartbeats').toBeLessThan(1_000);
    directory.release();
    expect(fs.existsSync(directory.dir), 'released: deleted').toBe(false);
  });

  it("refuses a parent with another host's fresh owner, naming the setting, the directory, the owner and the fix", () => {
    const parent = tempParent();
    const theirs = holderDir(parent, otherHost(), 2_000);
    let message = '';
    try {
      claim(parent, 'replica-a');
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
    }
    expect(message).toContain(`the processor state store cannot use STATE_DIR ${JSON.stringify(parent)}`);
    expect(message).toMatch(
      /another replica is using it \(host "replica-b", pid 1, started 2025-06-01T11:00:00.000Z, last heartbeat 2(\.\d)? s ago\)/,
    );
    expect(message).toContain(
      'Give each replica its own STATE_DIR: do not mount a volume shared between replicas there',
    );
    expect(fs.readdirSync(parent), 'nothing created, nothing removed').toEqual([path.basename(theirs)]);
  });

  it("takes over another host's directory whose heartbeat is stale, and logs it", () => {
    const parent = tempParent();
    const theirs = holderDir(parent, otherHost(), 60_000);
    const { directory, logs } = claim(parent, 'replica-a');
    expect(fs.existsSync(theirs), 'stale directory removed').toBe(false);
    expect(fs.readdirSync(parent)).toEqual([path.basename(directory.dir)]);
    expect(logs).toEqual([
      {
        level: 'info',
        obj: { dir: theirs, reason: expect.stringMatching(/host "replica-b".*no heartbeat for 30 s/) },
        msg: 'STATE_DIR: removed the directory of a process that is gone',
      },
    ]);
  });

  it('shares the parent with a live process on this host (each has its own directory), whatever its heartbeat', () => {
    const parent = tempParent();
    const parentPid = process.ppid;
    const live = holderDir(
      parent,
      { hostname: 'replica-a', pid: parentPid, startTime: startTime(parentPid), startedAt: 'x' },
      10 * 60_000,
    );
    const { directory, logs } = claim(parent, 'replica-a');
    expect(fs.existsSync(live), 'the live process keeps its directory').toBe(true);
    expect(fs.existsSync(directory.dir)).toBe(true);
    expect(logs).toEqual([]);
  });

  it('takes over the directory of a process of this host that is gone', () => {
    const parent = tempParent();
    const dead = holderDir(
      parent,
      { hostname: 'replica-a', pid: 2 ** 22 + 1, startTime: '1', startedAt: 'x' },
      0,
    );
    const { logs } = claim(parent, 'replica-a');
    expect(fs.existsSync(dead)).toBe(false);
    expect(logs.map((l) => l.msg)).toEqual(['STATE_DIR: removed the directory of a process that is gone']);
  });
});

/** A replica in a child process (test/helpers/storage/state-dir-holder.ts) holding `parent` as `hostname`. */
class Replica {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(parent: string, hostname: string, staleAfterMs?: number): Replica {
    const args = ['--import', 'tsx', 'test/helpers/storage/state-dir-holder.ts', parent, hostname];
    if (staleAfterMs !== undefined) args.push(String(staleAfterMs));
    return new Replica(spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Resolves with its directory once open; throws with its stderr if it exits first. */
  async opened(): Promise<string> {
    const exit = this.exited.then((code) => {
      throw new Error(`exited (${code}) before opening: ${this.stderr}`);
    });
    const open = (async () => {
      for (;;) {
        const line = /^open (.+)$/m.exec(this.stdout);
        if (line) return line[1] as string;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return Promise.race([open, exit]);
  }
}

describe('two replicas (child processes with different hostnames) on one STATE_DIR', () => {
  const replicas: Replica[] = [];
  afterEach(() => {
    for (const r of replicas.splice(0)) r.child.kill('SIGKILL');
  });
  const start = (parent: string, hostname: string, staleAfterMs?: number): Replica => {
    const replica = Replica.start(parent, hostname, staleAfterMs);
    replicas.push(replica);
    return replica;
  };

  it('refuses the second while the first runs; after the first stops cleanly the next one starts', async () => {
    const parent = tempParent();
    const first = start(parent, 'replica-a');
    const firstDir = await first.opened();

    const second = start(parent, 'replica-b');
    expect(await second.exited, 'the second is refused at start').toBe(1);
    expect(second.stderr).toContain(
      `the processor state store cannot use STATE_DIR ${JSON.stringify(parent)}`,
    );
    expect(second.stderr).toContain(`another replica is using it (host "replica-a", pid ${first.child.pid},`);
    expect(second.stderr).toContain('Give each replica its own STATE_DIR');
    expect(fs.readdirSync(parent), 'the refused replica left nothing').toEqual([path.basename(firstDir)]);

    first.child.kill('SIGTERM');
    expect(await first.exited, 'clean stop').toBe(0);
    const next = start(parent, 'replica-b');
    const nextDir = await next.opened();
    expect(fs.readdirSync(parent)).toEqual([path.basename(nextDir)]);
  }, 30_000);

  it('after the first is SIGKILLed, the next one takes its directory over once the heartbeat is stale', async () => {
    const parent = tempParent();
    const first = start(parent, 'replica-a');
    const firstDir = await first.opened();
    first.child.kill('SIGKILL');
    await first.exited;
    // The heartbeat is every 100 ms: stale after 300 ms.
    await new Promise((r) => setTimeout(r, 400));

    const next = start(parent, 'replica-b', 300);
    const nextDir = await next.opened();
    expect(fs.readdirSync(parent)).toEqual([path.basename(nextDir)]);
    expect(next.stdout).toContain('"msg":"STATE_DIR: removed the directory of a process that is gone"');
    expect(next.stdout).toContain(JSON.stringify(firstDir));
  }, 30_000);
});

describe('the owner identity', () => {
  it('is os.hostname() unless injected', () => {
    const parent = tempParent();
    const directory = claimDirectory(parent, { setting: 'STATE_DIR', what: 'processor state store' });
    claimed.push(directory);
    const record = JSON.parse(fs.readFileSync(path.join(directory.dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    expect(record.hostname).toBe(os.hostname());
  });
});
