import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from './ports.ts';

/** A JVM started by liftstream's launchers: its own process group, its log in a file, its pid on disk. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Why it is no longer running, or undefined while it runs. */
  exitReason(): string | undefined;
  /** Lets this Node process exit while the JVM keeps running (launch-and-leave commands). */
  release(): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnJavaOptions {
  name: string;
  /** The java executable; `java` on PATH by default. */
  java?: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
}

/** Starts `java ...` detached into its own process group so it can be stopped as a whole by its pid. */
export function spawnJava(opts: SpawnJavaOptions): ManagedProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  fs.mkdirSync(path.dirname(opts.pidFile), { recursive: true });
  const log = fs.openSync(opts.logFile, 'a');
  const child: ChildProcess = spawn(opts.java ?? 'java', opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start java (is it on PATH?)`);
  const pid = child.pid;
  fs.writeFileSync(opts.pidFile, String(pid));
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited (${signal ?? `code ${code}`}); see ${opts.logFile}`;
      fs.rmSync(opts.pidFile, { force: true });
      resolve();
    });
    child.once('error', (err) => {
      exited = `failed to start: ${err.message}`;
      resolve();
    });
  });
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exitReason: () => exited,
    release: () => child.unref(),
    async stop(graceMs = 15_000) {
      if (exited) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops a process left behind by an earlier run, identified only by its pid file. */
export async function stopByPidFile(pidFile: string, graceMs = 15_000): Promise<boolean> {
  if (!fs.existsSync(pidFile)) return false;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || !isAlive(pid)) return false;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(pid)) killGroup(pid, 'SIGKILL');
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last lines of a log file, for error messages that explain a failed start without opening files. */
export function logTail(file: string, lines = 8): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text
      .filter((l) => /ERROR|Exception|Caused by|FATAL/.test(l))
      .slice(-lines)
      .map((l) => l.slice(0, 300))
      .join('\n');
  } catch {
    return '';
  }
}

/**
 * Waits until `probe` answers for a JVM just started; if it exits first or the wait times out, stops it
 * and throws with the error lines of its log, so a failed start explains itself.
 */
export async function awaitReady(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitUntil(what, probe, { timeoutMs, intervalMs: 500, abortIf: proc.exitReason });
  } catch (err) {
    await proc.stop(2_000);
    const tail = logTail(proc.logFile);
    throw new Error(`${(err as Error).message}${tail ? `\n${tail}` : ''}`, { cause: err });
  }
}
