/**
 * A flood of identical POSTs from a worker thread, so the load generator does not share the event
 * loop of the test that measures latency beside it. Counts answers by status and collects Retry-After.
 */
import { Worker } from 'node:worker_threads';

export interface FloodResult {
  sent: number;
  byStatus: Record<string, number>;
  retryAfter: string[];
}

const SOURCE = `
const http = require('node:http');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: w.connections });
const until = Date.now() + w.durationMs;
const result = { sent: 0, byStatus: {}, retryAfter: new Set() };
const one = () => new Promise((resolve) => {
  const req = http.request(w.url, { method: 'POST', agent, headers: { ...w.headers, 'content-length': Buffer.byteLength(w.body) } }, (res) => {
    res.resume();
    res.on('end', () => {
      result.byStatus[res.statusCode] = (result.byStatus[res.statusCode] || 0) + 1;
      if (res.headers['retry-after']) result.retryAfter.add(res.headers['retry-after']);
      resolve();
    });
  });
  req.on('error', () => { result.byStatus[0] = (result.byStatus[0] || 0) + 1; resolve(); });
  req.end(w.body);
});
const loop = async () => { while (Date.now() < until) { result.sent++; await one(); } };
Promise.all(Array.from({ length: w.connections }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ ...result, retryAfter: [...result.retryAfter] });
});
`;

/** Sends `body` to `url` from `connections` keep-alive connections for `durationMs`, as fast as answered. */
export function flood(opts: {
  url: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationMs: number;
}): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, { eval: true, workerData: opts });
    worker.once('message', (m: FloodResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
