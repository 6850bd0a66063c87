import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LiftstreamError } from '../errors.ts';
import {
  judgeHolder,
  type Holder,
  type OwnerIdentity,
  type OwnerRecord,
  type OwnerVerdict,
} from './directory-owner-rule.ts';

/**
 * A process's own directory under a state parent (STATE_DIR, SINK_STATE_DIR), `pid-<pid>-<start time>-
 * <random>`, with an owner record inside (`owner.json`: hostname, pid, start time) whose mtime is
 * touched every `heartbeatMs`. Claiming one first judges the directories already there
 * (`directory-owner-rule.ts`): another host's live one refuses the start, garbage is removed (logged).
 */

export const OWNER_FILE = 'owner.json';
const DIR_PATTERN = /^pid-(\d+)-(\d*)-/;

/** Often enough that a stale owner is found within seconds, rarely enough to cost nothing (one utimes). */
const HEARTBEAT_MS = 5_000;
/** Six missed heartbeats: survives long event-loop stalls and some clock skew between hosts. */
const STALE_AFTER_MS = 30_000;

export interface OwnerOptions {
  /** This host's name, `os.hostname()` by default (tests inject one per simulated replica). */
  hostname?: string;
  /** ms between two touches of the owner record. */
  heartbeatMs?: number;
  /** ms without a heartbeat after which an owner is gone and its directory is taken over. */
  staleAfterMs?: number;
}

/** Where takeovers and a lost owner record are reported (a pino logger fits). */
export interface OwnerLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ClaimedDirectory {
  readonly dir: string;
  /** Stops the heartbeat and deletes the directory (graceful stop). */
  release(): void;
}

/** This process as an owner; `hostname` defaults to `os.hostname()`. */
export function currentIdentity(hostname: string = os.hostname()): OwnerIdentity {
  return { hostname, pid: process.pid, startTime: startTime(process.pid) };
}

/**
 * Creates this process's directory under `parent` (the value of `setting`) and starts its heartbeat, or
 * throws CONFIG_INVALID naming the setting, the directory and the other owner when another host's
 * process uses the parent. Checked again once the record is written, so that of two replicas started
 * together at least one is refused (both, when each sees the other).
 */
export function claimDirectory(
  parent: string,
  opts: { setting: string; what: string; owner?: OwnerOptions; logger?: OwnerLog },
): ClaimedDirectory {
  const me = currentIdentity(opts.owner?.hostname);
  const staleAfterMs = opts.owner?.staleAfterMs ?? STALE_AFTER_MS;
  const refuse = (verdicts: Judged[]): void => {
    const others = verdicts.filter((v) => v.verdict.action === 'refuse');
    if (others.length > 0) throw sharedDirectory(parent, opts, others, staleAfterMs);
  };

  const before = surveyParent(parent, me, Date.now(), staleAfterMs);
  refuse(before);
  for (const { name, verdict } of before) {
    if (verdict.action !== 'take-over') continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    opts.logger?.info(
      { dir: path.join(parent, name), reason: verdict.reason },
      `${opts.setting}: removed the directory of a process that is gone`,
    );
  }

  const dir = fs.mkdtempSync(path.join(parent, `pid-${me.pid}-${me.startTime ?? ''}-`));
  try {
    writeOwnerRecord(dir, { ...me, startedAt: new Date().toISOString() });
    refuse(surveyParent(parent, me, Date.now(), staleAfterMs));
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = startHeartbeat(dir, opts.owner?.heartbeatMs ?? HEARTBEAT_MS, opts.setting, opts.logger);
  return {
    dir,
    release() {
      stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Judged {
  name: string;
  holder: Holder;
  verdict: OwnerVerdict;
}

/** Every process directory under `parent` with its verdict for `me`. */
export function surveyParent(
  parent: string,
  me: OwnerIdentity,
  nowMs: number,
  staleAfterMs: number,
): Judged[] {
  const judged: Judged[] = [];
  for (const name of fs.readdirSync(parent)) {
    const match = DIR_PATTERN.exec(name);
    if (match === null) continue;
    const holder = readHolder(path.join(parent, name), Number(match[1]), match[2] || null);
    judged.push({ name, holder, verdict: judgeHolder(holder, me, nowMs, probeProcess, staleAfterMs) });
  }
  return judged;
}

/**
 * Removes the directories of processes that are gone (SIGKILL, a crash, a stale heartbeat) so the parent
 * does not fill up; never another host's live one.
 */
export function removeStaleDirectories(parent: string, staleAfterMs = STALE_AFTER_MS): void {
  for (const { name, verdict } of surveyParent(parent, currentIdentity(), Date.now(), staleAfterMs)) {
    if (verdict.action === 'take-over') fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

/** Written whole or not at all (rename), so a reader never sees half a record. */
export function writeOwnerRecord(dir: string, record: OwnerRecord): void {
  const file = path.join(dir, OWNER_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
  fs.renameSync(`${file}.tmp`, file);
}

function readHolder(dir: string, pid: number, nameStartTime: string | null): Holder {
  const file = path.join(dir, OWNER_FILE);
  try {
    const heartbeatAtMs = fs.statSync(file).mtimeMs;
    const record = parseRecord(fs.readFileSync(file, 'utf8'));
    if (record !== null) return { record, pid, startTime: nameStartTime, heartbeatAtMs };
  } catch {
    // No record (an older version's directory, or one being created this instant): judged by pid.
  }
  return { record: null, pid, startTime: nameStartTime, heartbeatAtMs: null };
}

function parseRecord(text: string): OwnerRecord | null {
  const r = JSON.parse(text) as Partial<OwnerRecord> | null;
  const ok =
    typeof r?.hostname === 'string' &&
    Number.isInteger(r.pid) &&
    (r.startTime === null || typeof r.startTime === 'string') &&
    typeof r.startedAt === 'string';
  return ok ? (r as OwnerRecord) : null;
}

/**
 * Touches the owner record every `intervalMs` (unref'd: it never keeps the process alive); returns the
 * stop. A record that has gone means another process judged this one dead and took the directory over:
 * logged, since the parent is then shared after all.
 */
function startHeartbeat(dir: string, intervalMs: number, setting: string, logger?: OwnerLog): () => void {
  const file = path.join(dir, OWNER_FILE);
  let failing = false;
  const timer = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now, (err) => {
      if (err === null) {
        failing = false;
        return;
      }
      if (failing) return;
      failing = true;
      logger?.error(
        { err, dir },
        err.code === 'ENOENT'
          ? `${setting}: this process's owner record is gone; another process took its directory over`
          : `${setting}: cannot heartbeat the owner record`,
      );
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function sharedDirectory(
  parent: string,
  opts: { setting: string; what: string },
  others: Judged[],
  staleAfterMs: number,
): LiftstreamError {
  return new LiftstreamError(
    'CONFIG_INVALID',
    `the ${opts.what} cannot use ${opts.setting} ${JSON.stringify(path.resolve(parent))}: another replica is ` +
      `using it (${others.map((o) => o.verdict.reason).join('; ')}). Give each replica its own ` +
      `${opts.setting}: do not mount a volume shared between replicas there. (An owner that stops ` +
      `heartbeating is taken to be gone after ${staleAfterMs / 1000} s.)`,
  );
}

const probeProcess = (pid: number): { alive: boolean; startTime: string | null } => {
  const alive = isAlive(pid);
  return { alive, startTime: alive ? startTime(pid) : null };
};

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
