import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.ts';
import { waitUntil } from './ports.ts';

/** A liftstream service (gateway, processor, stats) run as a child Node process from its TypeScript entry. */
export interface NodeService {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves once GET readyUrl answers 2xx; fails at once if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now, no cleanup: what a crash looks like to the rest of the system. */
  kill(): Promise<void>;
}

export function startNodeService(opts: {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  logFile: string;
  /** Extra node options, placed after tsx's loader (so they may preload TypeScript). */
  nodeArgs?: readonly string[];
}): NodeService {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = fs.openSync(opts.logFile, 'a');
  // --max-semi-space-size: a larger young generation cut the gateway's CPU per event by about a fifth.
  const args = ['--max-semi-space-size=32', '--import', 'tsx', ...(opts.nodeArgs ?? []), opts.entry];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const signalAndWait = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (!isRunning()) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name: opts.name,
    child,
    logFile: opts.logFile,
    ready: (timeoutMs = 180_000) =>
      waitUntil(`${opts.name} (${opts.readyUrl})`, async () => (await fetch(opts.readyUrl)).ok, {
        timeoutMs,
        intervalMs: 300,
        abortIf: () =>
          isRunning()
            ? undefined
            : `exited (${child.signalCode ?? `code ${child.exitCode}`}); see ${opts.logFile}`,
      }),
    stop: (graceMs = 20_000) => signalAndWait('SIGTERM', graceMs),
    kill: () => signalAndWait('SIGKILL', 0),
  };
}
