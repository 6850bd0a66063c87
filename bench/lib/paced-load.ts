/**
 * Open-loop HTTP load at a steady rate, for the benches: request i is sent at start + i/rate whatever
 * happened to earlier ones, over keep-alive connections, and its latency is counted from that
 * scheduled time, so a stall of the server (or of this loop) is not hidden as it would be by a closed
 * loop (coordinated omission). autocannon's own rate limiter is no substitute: it sends each
 * connection's per-second quota back to back at the top of each second.
 */
import http from 'node:http';

/** One request of the load. */
export interface PacedRequest {
  /** Path on the base URL, e.g. `/v1/batch`. */
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** The final answer to one request. */
export interface PacedOutcome<R extends PacedRequest> {
  request: R;
  /** HTTP status of the last attempt; 0 when it got no answer (connection error). */
  status: number;
  /** Response body of the last attempt (empty on a connection error). */
  body: string;
  /** Attempts made: 1 unless retried. */
  attempts: number;
  /** From the scheduled send time to the last answer, retries included, ms. */
  latencyMs: number;
  /** The scheduled send time, performance.now() ms. */
  scheduledAt: number;
}

export interface PacedLoadOptions<R extends PacedRequest> {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Requests per second. */
  rate: number;
  /** Schedules rate × seconds requests; unbounded when omitted (until `next` returns undefined). */
  seconds?: number;
  /**
   * The request of slot i, asked at its send time: undefined ends the load; null means "not ready
   * yet" (asked again on the next tick; the wait counts in its latency, as a client's would).
   */
  next(i: number): R | null | undefined;
  onDone(outcome: PacedOutcome<R>): void;
  /**
   * Statuses a client answers by waiting (the response's Retry-After, else retryDelayMs) and sending
   * the same request again, e.g. [503]; default none. Connection errors are never retried: a request
   * may have landed before its connection broke.
   */
  retryStatuses?: readonly number[];
  /** Attempts per request including the first, default 1. */
  maxAttempts?: number;
  /** Wait before a retry when the answer has no Retry-After, ms (default 1000); Retry-After is capped at 30 s. */
  retryDelayMs?: number;
  /** Stops scheduling when aborted; requests in flight still finish. */
  signal?: AbortSignal;
}

export interface PacedLoadSummary {
  /** Requests scheduled (each answered, possibly after retries). */
  sent: number;
  /** From the first scheduled send to the last answer, s. */
  durationS: number;
}

interface Answer {
  status: number;
  body: string;
  retryAfterS: number | undefined;
}

function send(agent: http.Agent, base: URL, request: PacedRequest): Promise<Answer> {
  const payload = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: request.path,
        method: 'POST',
        agent,
        headers: { ...request.headers, 'content-length': payload.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterS: Number.isFinite(retryAfter) ? retryAfter : undefined,
          });
        });
      },
    );
    req.on('error', () => resolve({ status: 0, body: '', retryAfterS: undefined }));
    req.end(payload);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the load; resolves once every scheduled request has its final answer. */
export async function pacedLoad<R extends PacedRequest>(
  opts: PacedLoadOptions<R>,
): Promise<PacedLoadSummary> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const base = new URL(opts.url);
  const retryStatuses = new Set(opts.retryStatuses ?? []);
  const maxAttempts = opts.maxAttempts ?? 1;
  const total = opts.seconds === undefined ? Infinity : Math.round(opts.rate * opts.seconds);
  const inFlight = new Set<Promise<void>>();
  const fire = (request: R, scheduledAt: number): void => {
    const done = (async () => {
      for (let attempt = 1; ; attempt++) {
        const answer = await send(agent, base, request);
        if (retryStatuses.has(answer.status) && attempt < maxAttempts) {
          const waitS = Math.min(30, answer.retryAfterS ?? (opts.retryDelayMs ?? 1_000) / 1000);
          await sleep(waitS * 1000);
          continue;
        }
        opts.onDone({
          request,
          status: answer.status,
          body: answer.body,
          attempts: attempt,
          latencyMs: performance.now() - scheduledAt,
          scheduledAt,
        });
        return;
      }
    })();
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  const start = performance.now();
  let sent = 0;
  let ended = false;
  while (!ended && sent < total && !opts.signal?.aborted) {
    const now = performance.now();
    while (sent < total && start + (sent * 1000) / opts.rate <= now) {
      const request = opts.next(sent);
      if (request === null) break;
      if (request === undefined) {
        ended = true;
        break;
      }
      fire(request, start + (sent * 1000) / opts.rate);
      sent++;
    }
    await sleep(Math.max(1, start + (sent * 1000) / opts.rate - performance.now()));
  }
  await Promise.all([...inFlight]);
  agent.destroy();
  return { sent, durationS: (performance.now() - start) / 1000 };
}

/** The p-quantile (0..1) of ascending `sorted` values: the value at index ⌊p·n⌋; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
