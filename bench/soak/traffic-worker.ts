/**
 * Worker thread of the soak's traffic source: generates chunk k on request (≈ 20 µs per event, tens of
 * milliseconds a chunk, which on the sending thread would delay scheduled requests and show as latency)
 * and hands back the request bodies in one transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { generateChunk, type TrafficOptions, type Truth } from './scenario-traffic.ts';

/** A request of a generated chunk; its body is `bodies[offset, offset + length)`. */
export interface ChunkRequestRef {
  project: string;
  offset: number;
  length: number;
  events: number;
  expectedAccepted: number;
}

/** Reply to a request for chunk `k`. */
export interface ChunkMessage {
  k: number;
  bodies: ArrayBuffer;
  requests: ChunkRequestRef[];
  truth: Truth;
}

const options = workerData as TrafficOptions;

parentPort?.on('message', (k: number) => {
  const { requests, truth } = generateChunk(options, k, Date.now());
  const lengths = requests.map((r) => Buffer.byteLength(r.body));
  // allocUnsafeSlow: a buffer of its own (not a slice of the shared pool), so it can be transferred.
  const bodies = Buffer.allocUnsafeSlow(lengths.reduce((a, b) => a + b, 0));
  let offset = 0;
  const refs = requests.map((r, i) => {
    const length = lengths[i] as number;
    bodies.write(r.body, offset);
    const ref = {
      project: r.project,
      offset,
      length,
      events: r.events,
      expectedAccepted: r.expectedAccepted,
    };
    offset += length;
    return ref;
  });
  const message: ChunkMessage = { k, bodies: bodies.buffer as ArrayBuffer, requests: refs, truth };
  parentPort?.postMessage(message, [message.bodies]);
});
