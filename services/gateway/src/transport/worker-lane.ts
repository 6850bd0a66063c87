/**
 * The main thread's handle on a producer thread (producer-worker.ts): sends packed batches, tracks
 * whether the worker's producer is connected, and fails pending sends if the worker dies (a new
 * worker is started on the next call).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OutgoingRecord } from '../ingest/prepare-ingest.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ProducerWorkerData, ProducerWorkerReply, ProducerWorkerRequest } from './producer-worker.ts';
import { packRecords } from './record-packing.ts';

/** Young generation of a producer thread, MB (three semi-spaces of 32 MB). */
const WORKER_YOUNG_GENERATION_MB = 96;

/** A lane as KafkaIngestProducer drives it, in a thread or not. */
export interface Lane {
  send(records: OutgoingRecord[]): Promise<void>;
  connect(): Promise<void>;
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * How to start the worker script next to this module. Compiled to JavaScript it starts directly.
 * From TypeScript sources (tsx, vitest) the worker thread needs tsx's loader, which `--import` in a
 * worker's execArgv does not install on Node 20; a small bootstrap registers it first.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { entry: new URL('./producer-worker.js', import.meta.url), eval: false };
  const script = new URL('./producer-worker.ts', import.meta.url).href;
  const tsxApi = tsxEsmApiUrl();
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(script)}); })` +
    `.catch((err) => { setImmediate(() => { throw err; }); });`;
  return { entry: bootstrap, eval: true };
}

/** tsx's ESM API entry, from its package exports (require.resolve would give the CommonJS build). */
function tsxEsmApiUrl(): string {
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = pkg.exports['./esm/api']?.import.default ?? './dist/esm/api/index.mjs';
  return pathToFileURL(path.join(path.dirname(pkgFile), entry)).href;
}

export class WorkerLane implements Lane {
  private worker: Worker | undefined;
  private connected = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(
    private readonly data: ProducerWorkerData,
    private readonly logger: Logger,
  ) {}

  isConnected(): boolean {
    return this.connected;
  }

  send(records: OutgoingRecord[]): Promise<void> {
    const packed = packRecords(records);
    return this.call({ type: 'send', id: 0, packed }, [packed.data, packed.offsets.buffer as ArrayBuffer]);
  }

  connect(): Promise<void> {
    return this.call({ type: 'connect', id: 0 }, []);
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    await this.call({ type: 'close', id: 0 }, [], true).catch(() => undefined);
    this.worker = undefined;
    await worker.terminate();
  }

  private call(request: ProducerWorkerRequest, transfer: ArrayBuffer[], closing = false): Promise<void> {
    if (this.closed && !closing) return Promise.reject(new Error('producer thread is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { entry, eval: isEval } = workerEntry();
    const worker = new Worker(entry, {
      workerData: this.data,
      eval: isEval,
      // kafkajs allocates a buffer per record: a larger young generation (V8's default semi-space is
      // 16 MB at most) halves the scavenges' share of the thread's CPU.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    worker.on('message', (message: ProducerWorkerReply) => {
      if (message.type === 'connected') {
        this.connected = message.value;
        return;
      }
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error === null) waiter?.resolve();
      else waiter?.reject(new Error(message.error));
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.connected = false;
      if (!this.closed) this.logger.error({ err: err.message, lane: this.data.lane }, 'producer thread died');
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`producer thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
