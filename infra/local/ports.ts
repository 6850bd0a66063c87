import fs from 'node:fs';
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

/** Whether this process can listen on host:port right now. */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** First port of the kernel's ephemeral range (outgoing connections take their local ports there). */
function ephemeralRangeStart(): number {
  try {
    const start = Number(
      fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(start) && start > 21_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * `count` consecutive free ports on host, for a server started later (a broker, a child service). They
 * are picked below the ephemeral range: a port inside it can be taken by any outgoing connection between
 * the check and the bind (a broker failed to start that way, 'Address already in use').
 */
export async function pickFreePorts(host: string, count = 1): Promise<number[]> {
  const low = 20_000;
  const high = ephemeralRangeStart() - count;
  for (;;) {
    const first = low + Math.floor(Math.random() * (high - low));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    let free = true;
    for (const port of ports) free = free && (await canListen(host, port));
    if (free) return ports;
  }
}

/** One free port on host (see pickFreePorts). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await pickFreePorts(host);
  return port as number;
}
