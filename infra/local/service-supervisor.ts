import { backoffDelayMs, type BackoffPolicy } from '../../shared/retry/capped-backoff.ts';
import type { NodeService } from './node-service.ts';

/** 1 s doubling to 30 s: quick after a one-off crash, gentle on a service that cannot start. */
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000 };
/** A run this long counts as recovered: the next exit restarts after the initial delay again. */
const DEFAULT_RESET_AFTER_MS = 60_000;
const DEFAULT_READY_TIMEOUT_MS = 180_000;

export interface SupervisorOptions {
  /** Starts a fresh process of the service (same entry, env, log file and readiness URL each time). */
  launch: () => NodeService;
  /** Delays between an exit and the restart, ms. */
  backoff?: BackoffPolicy;
  /** ms a process must have run for its exit to reset the backoff. */
  resetAfterMs?: number;
  /** ms a restarted process may take to answer its readiness URL before that is reported. */
  readyTimeoutMs?: number;
  /** Where exits and restarts are reported, one line each. */
  log?: (line: string) => void;
}

/**
 * Local mode's keeper of one service: once it was ready, a process that exits while the stack is not
 * stopping is restarted after a capped exponential backoff (the attempt counted in the log), and the
 * restart waits for the readiness URL. A first start that fails is not retried: that is a broken setup
 * (a port taken, a bad variable), reported at once. `stop()` cancels a pending restart.
 */
export class ServiceSupervisor {
  private service: NodeService | null = null;
  private supervising = false;
  private stopping = false;
  /** Restarts since the service last ran `resetAfterMs`. */
  private attempt = 0;
  private launchedAt = 0;
  private cancelWait: (() => void) | null = null;
  private restarting: Promise<void> | null = null;
  private readonly backoff: BackoffPolicy;
  private readonly resetAfterMs: number;
  private readonly readyTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SupervisorOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.resetAfterMs = opts.resetAfterMs ?? DEFAULT_RESET_AFTER_MS;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    this.log = opts.log ?? ((line) => console.error(`[local] ${line}`));
  }

  /** The process running now (or the last one, while a restart waits). */
  get current(): NodeService {
    if (this.service === null) throw new Error('the supervisor was not started');
    return this.service;
  }

  /** Starts the service and waits until it is ready; supervises it from then on. Rejects if it is not. */
  async start(): Promise<void> {
    const service = this.launch();
    await service.ready(this.readyTimeoutMs);
    this.supervising = !this.stopping;
  }

  /** Cancels a pending restart and stops the process (SIGTERM, SIGKILL after graceMs). */
  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    this.supervising = false;
    this.cancelWait?.();
    await this.service?.stop(graceMs);
    await this.restarting;
  }

  private launch(): NodeService {
    const service = this.opts.launch();
    this.service = service;
    this.launchedAt = Date.now();
    service.child.once('exit', (code, signal) => this.onExit(service, code, signal));
    return service;
  }

  private onExit(service: NodeService, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.supervising || this.stopping || service !== this.service) return;
    const ranMs = Date.now() - this.launchedAt;
    if (ranMs >= this.resetAfterMs) this.attempt = 0;
    this.attempt += 1;
    const attempt = this.attempt;
    // The full delay, no jitter: one supervisor per service, nobody to fall out of step with.
    const delayMs = backoffDelayMs(attempt, this.backoff, () => 1);
    this.log(
      `${service.name} exited (${signal ?? `code ${code}`}) after ${seconds(ranMs)} s; ` +
        `restarting in ${seconds(delayMs)} s (attempt ${attempt}); see ${service.logFile}`,
    );
    this.restarting = this.restartAfter(delayMs, attempt);
  }

  private async restartAfter(delayMs: number, attempt: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.cancelWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.cancelWait = null;
    if (this.stopping) return;
    const service = this.launch();
    try {
      await service.ready(this.readyTimeoutMs);
      this.log(`${service.name} restarted and ready (attempt ${attempt})`);
    } catch (err) {
      // Exited before ready: onExit has already scheduled the next attempt. Still running: say so.
      const running = service.child.exitCode === null && service.child.signalCode === null;
      if (running && !this.stopping)
        this.log(`${service.name} restarted (attempt ${attempt}) but ${(err as Error).message}`);
    }
  }
}

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10);
