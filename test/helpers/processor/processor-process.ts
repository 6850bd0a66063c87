/**
 * The processor as a child process (`node --import tsx services/processor/src/main.ts`), for the
 * tests that kill it: the pid is node's own (no wrapper), so SIGKILL hits the processor itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../infra/local/ports.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export class ProcessorProcess {
  private exited = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
    });
  }

  /**
   * Starts an instance with `env` (added to this process's env); its output goes to `logFile`.
   * `preload`: test hooks loaded before the processor (`--import`), as repo-relative paths.
   */
  static async start(
    env: Record<string, string>,
    logFile: string,
    preload: readonly string[] = [],
  ): Promise<ProcessorProcess> {
    const port = await freePort();
    const out = fs.openSync(logFile, 'a');
    const imports = ['tsx', ...preload.map((p) => `./${p}`)].flatMap((m) => ['--import', m]);
    const child = spawn(process.execPath, [...imports, 'services/processor/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, PROCESSOR_HOST: '127.0.0.1', PROCESSOR_PORT: String(port) },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    return new ProcessorProcess(child, port);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Polls /readyz until the instance owns restored, ready tasks. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`processor ${this.pid} exited (${this.exitCode ?? this.exitSignal})`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(1_000) })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`processor ${this.pid} not ready after ${timeoutMs} ms`);
  }

  /** The instance's Prometheus text (or '' when it does not answer). */
  async metrics(): Promise<string> {
    return fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.text())
      .catch(() => '');
  }

  /** SIGSTOP: the process freezes (no heartbeats, no requests) until `resume`, like a long GC pause. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT after `pause`. */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGKILL, then waits for the exit. */
  async kill9(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM (graceful), then waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }
}

/** The value of a Prometheus sample line `name{labels} value` summed over its label sets. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
