import net from 'node:net';

/** Resolves true when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Throws a one-line, actionable error when the port is already taken. */
export async function assertPortFree(
  host: string,
  port: number,
  what: string,
  envHint: string,
): Promise<void> {
  if (await isPortOpen(host, port)) {
    throw new Error(
      `${what}: port ${host}:${port} is already in use. Stop whatever listens there (ss -ltnp | grep :${port}) ` +
        `or choose another port with ${envHint}.`,
    );
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked on every poll; a string return aborts the wait with that reason (e.g. the process died). */
  abortIf?: () => string | undefined;
}

/** Polls `probe` until it resolves true; every wait has a deadline and names what it waited for. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const reason = opts.abortIf?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready after ${Math.round(opts.timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
