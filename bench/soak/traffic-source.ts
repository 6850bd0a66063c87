/**
 * The soak's request source on the sending thread: chunks come ready-made from a worker thread
 * (traffic-worker.ts), a few ahead, so taking the next request never stalls the paced loop. A chunk
 * counts into `truth` when its first request is taken, and a started chunk is always sent to the end
 * (`finish()` stops at the next chunk boundary), so `truth` is exactly what was sent.
 */
import { Worker } from 'node:worker_threads';
import type { PacedRequest } from '../lib/paced-load.ts';
import { addTruth, type TrafficOptions, type Truth } from './scenario-traffic.ts';
import type { ChunkMessage } from './traffic-worker.ts';

/** A request of the scenario traffic. */
export interface TrafficRequest extends PacedRequest {
  kind: 'traffic';
  project: string;
  events: number;
  expectedAccepted: number;
}

/** Chunks generated ahead of the sender (with 200 users per project a chunk is ≈ 1.4 s at 3,000 events/s). */
const PREFETCH_CHUNKS = 3;

export class TrafficSource {
  /** The truth of every chunk started so far. */
  readonly truth: Truth = {};
  chunksStarted = 0;
  private readonly worker: Worker;
  private readonly ready: ChunkMessage[] = [];
  private current: { chunk: ChunkMessage; bodies: Buffer; next: number } | null = null;
  private nextChunk = 0;
  private finishing = false;
  private failure: Error | null = null;

  /** @param writeKeys write key per project id */
  constructor(
    options: TrafficOptions,
    private readonly writeKeys: Record<string, string>,
  ) {
    // Node refuses a .ts worker entry: the worker registers tsx's loader first, then imports it.
    const tsx = import.meta.resolve('tsx/esm/api');
    const script = new URL('./traffic-worker.ts', import.meta.url).href;
    this.worker = new Worker(
      `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(script)}); })` +
        '.catch((err) => { setImmediate(() => { throw err; }); });',
      { eval: true, workerData: options },
    );
    this.worker.on('message', (chunk: ChunkMessage) => this.ready.push(chunk));
    this.worker.on('error', (err) => (this.failure = err));
    for (let i = 0; i < PREFETCH_CHUNKS; i++) this.worker.postMessage(this.nextChunk++);
  }

  /** Resolves once the first chunk is ready (the worker has loaded and generated it). */
  async warmUp(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ready.length === 0) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) throw new Error('traffic worker produced nothing');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The next request; null when the worker is behind (ask again), undefined once finished. */
  next(): TrafficRequest | null | undefined {
    if (this.failure) throw this.failure;
    if (this.current !== null && this.current.next >= this.current.chunk.requests.length) this.current = null;
    if (this.current === null) {
      if (this.finishing) return undefined;
      const chunk = this.ready.shift();
      if (chunk === undefined) return null;
      this.current = { chunk, bodies: Buffer.from(chunk.bodies), next: 0 };
      addTruth(this.truth, chunk.truth);
      this.chunksStarted++;
      this.worker.postMessage(this.nextChunk++);
    }
    const ref = this.current.chunk.requests[this.current.next++];
    if (ref === undefined) return null;
    return {
      kind: 'traffic',
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.writeKeys[ref.project]}` },
      body: this.current.bodies.subarray(ref.offset, ref.offset + ref.length),
      project: ref.project,
      events: ref.events,
      expectedAccepted: ref.expectedAccepted,
    };
  }

  /** Ends the traffic at the end of the chunk in progress. */
  finish(): void {
    this.finishing = true;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
