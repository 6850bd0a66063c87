/**
 * Probes of an HTTP service over real sockets, for tests of its bounds on slow and abusive clients
 * (gateway and stats): raw connections that misbehave in ways fetch will not, reading what they got,
 * a counter of the service's /metrics, and latency percentiles of the well-behaved clients beside them.
 */
import net from 'node:net';
import { expect } from 'vitest';
import { expectErrorBody } from './error-format.ts';

/** A raw client connection: what it received so far, and when the server closed it. */
export interface RawClient {
  readonly socket: net.Socket;
  received(): string;
  /** ms from connect until the first byte received and until the close, and everything received. */
  readonly closed: Promise<{ firstByteAfterMs: number; afterMs: number; received: string }>;
}

/** Connects to 127.0.0.1:`port` and runs `behave` once connected; resolves when connected. */
export async function rawClient(
  port: number,
  behave: (socket: net.Socket) => void = () => undefined,
): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let firstByteAt = NaN;
  socket.on('data', (chunk: Buffer) => {
    if (received === '') firstByteAt = Date.now();
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined); // a reset is an outcome here, read from `closed`
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const start = Date.now();
  const closed = new Promise<{ firstByteAfterMs: number; afterMs: number; received: string }>((resolve) =>
    socket.once('close', () =>
      resolve({ firstByteAfterMs: firstByteAt - start, afterMs: Date.now() - start, received }),
    ),
  );
  behave(socket);
  return { socket, received: () => received, closed };
}

/** Polls until `client` received a complete answer (headers and a JSON body) after `from` bytes. */
export async function answerOf(client: RawClient, from = 0): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = client.received().slice(from);
    const split = text.indexOf('\r\n\r\n');
    const length = Number(/content-length: (\d+)/i.exec(text.slice(0, split))?.[1]);
    if (split > 0 && text.length >= split + 4 + length) return text.slice(0, split + 4 + length);
    if (Date.now() > deadline) throw new Error(`no complete answer: ${JSON.stringify(text.slice(0, 200))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes `text` one byte every `everyMs` while the socket is open. */
export function dribble(socket: net.Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) clearInterval(timer);
    else socket.write(text[i++] as string);
  }, everyMs);
}

/** Splits a raw HTTP/1.1 answer into its status and its body parsed as JSON. */
export function parseAnswer(raw: string): { status: number; json: Record<string, unknown> } {
  const split = raw.indexOf('\r\n\r\n');
  expect(split, `a complete HTTP answer, got ${JSON.stringify(raw.slice(0, 200))}`).toBeGreaterThan(0);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw.slice(0, split))?.[1]),
    json: JSON.parse(raw.slice(split + 4)) as Record<string, unknown>,
  };
}

/**
 * Resolves within `ms` or rejects naming `what` (a socket the server should have closed, a setup step that
 * should not hang): a named failure instead of the test runner's anonymous hook or test timeout.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** A counter of `<url>/metrics`, read over a connection closed afterwards (no slot kept). */
export async function scrapeMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** The p-th percentile (nearest rank) of `values`, e.g. request latencies in ms. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** A raw client of a named misbehaviour (e.g. 'slow headers'). */
export interface SlowClient {
  readonly kind: string;
  readonly client: RawClient;
}

/** Connects `perKind` raw clients for each kind, each misbehaving as its `behave` says. */
export async function connectSlowClients(
  port: number,
  kinds: Record<string, (socket: net.Socket) => void>,
  perKind: number,
): Promise<SlowClient[]> {
  const slow: SlowClient[] = [];
  for (const [kind, behave] of Object.entries(kinds)) {
    const clients = await Promise.all(Array.from({ length: perKind }, () => rawClient(port, behave)));
    slow.push(...clients.map((client) => ({ kind, client })));
  }
  return slow;
}

/**
 * Waits for every slow client's close (at most `slackMs` more) and asserts each was cut by the timeout
 * of its kind, not earlier and at most `slackMs` later, with 408 request_timeout in the one error format.
 */
export async function expectCutWith408(
  slow: readonly SlowClient[],
  timeoutOf: (kind: string) => number,
  slackMs: number,
): Promise<void> {
  const outcomes = await within(Promise.all(slow.map((s) => s.client.closed)), slackMs, 'slow sockets');
  for (const [i, { afterMs, received }] of outcomes.entries()) {
    const { kind } = slow[i] as SlowClient;
    const timeout = timeoutOf(kind);
    expect(afterMs, `${kind} socket closed by its timeout, not earlier`).toBeGreaterThanOrEqual(
      timeout * 0.9,
    );
    expect(afterMs, `${kind} socket closed within ${timeout} ms + slack`).toBeLessThanOrEqual(
      timeout + slackMs,
    );
    const answer = parseAnswer(received);
    expect(answer.status, `${kind} answered 408`).toBe(408);
    expectErrorBody(answer.json, 'request_timeout');
  }
}

/** Sends `bytes` on a new connection; returns the one answer received before the server closed it. */
export async function answerBeforeClose(
  port: number,
  bytes: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const client = await rawClient(port, (s) => s.write(bytes));
  return parseAnswer((await within(client.closed, 5_000, 'a connection after its answer')).received);
}

/**
 * `count` connections each get GET /healthz answered 200, then stay idle: asserts the server closes
 * each after `keepAliveMs` (not earlier, at most `slackMs` later).
 */
export async function expectIdleKeepAliveClosed(
  port: number,
  keepAliveMs: number,
  slackMs: number,
  count = 20,
): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: count }, () =>
      rawClient(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n')),
    ),
  );
  for (const { afterMs, received } of await within(
    Promise.all(clients.map((c) => c.closed)),
    keepAliveMs + slackMs,
    'idle keep-alive sockets',
  )) {
    expect(received, 'the request was answered first').toMatch(/^HTTP\/1\.1 200 /);
    expect(afterMs).toBeGreaterThanOrEqual(keepAliveMs * 0.9);
  }
}
