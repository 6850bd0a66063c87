/**
 * A loopback HTTP proxy in front of the gateway that injects the failures a producer meets on real
 * networks, request by request from a script:
 * - `pass`: forwarded, the gateway's answer returned;
 * - `reset`: the connection is dropped before anything is forwarded (nothing reached the gateway);
 * - `unavailable`: answered 503 with Retry-After without forwarding (the gateway's "nothing accepted");
 * - `lose-response`: forwarded, and once the gateway has answered (so it ACCEPTED the events) the
 *   connection is dropped: the producer sees a network error and must retry events that are already
 *   in. Only message_id dedup keeps them from counting twice.
 * Every request is recorded (method, path, content type, what was done to it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'pass' | 'reset' | 'unavailable' | 'lose-response';

export interface ProxiedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  authorization: boolean;
  origin: string | undefined;
  fault: Fault;
  /** The gateway's status and answer, when it was asked. */
  upstreamStatus?: number;
  upstreamBody?: string;
  /** Request body as received (decompressed only if the test decodes it). */
  body: Buffer;
}

export interface FaultProxy {
  url: string;
  requests: ProxiedRequest[];
  /** How many requests got each fault. */
  counts(): Record<Fault, number>;
  close(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1. `faultFor(n, method)` picks the fault of the n-th request (from 0);
 * requests other than POST (CORS preflights) should normally pass.
 */
export async function startFaultProxy(opts: {
  target: string;
  faultFor: (n: number, method: string) => Fault;
  retryAfterSeconds?: number;
}): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const requests: ProxiedRequest[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = opts.faultFor(n++, req.method ?? 'GET');
      const record: ProxiedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        authorization: req.headers.authorization !== undefined,
        origin: req.headers.origin,
        fault,
        body: Buffer.concat(chunks),
      };
      requests.push(record);
      // One request per connection: a dropped connection must fail only its own request.
      res.shouldKeepAlive = false;
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === 'unavailable') {
        const body = JSON.stringify({
          error: { code: 'kafka_unavailable', message: 'injected by the test proxy' },
        });
        res.writeHead(503, {
          'content-type': 'application/json',
          'retry-after': String(opts.retryAfterSeconds ?? 1),
          // A browser reads the answer only with CORS headers; the SDK then falls back to backoff.
          ...(req.headers.origin ? { 'access-control-allow-origin': req.headers.origin } : {}),
        });
        res.end(body);
        return;
      }
      const headers = { ...req.headers, host: target.host };
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            record.upstreamStatus = answer.statusCode;
            record.upstreamBody = Buffer.concat(body).toString('utf8');
            if (fault === 'lose-response') {
              req.socket.destroy();
              return;
            }
            const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...end2end } = answer.headers;
            res.writeHead(answer.statusCode ?? 502, end2end);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.on('error', () => req.socket.destroy());
      upstream.end(record.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    counts() {
      const counts: Record<Fault, number> = { pass: 0, reset: 0, unavailable: 0, 'lose-response': 0 };
      for (const r of requests) counts[r.fault]++;
      return counts;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
