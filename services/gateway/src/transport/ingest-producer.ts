/**
 * The gateway's Kafka writer: idempotent producer lanes behind a BatchCoalescer.
 *
 * Each lane is one idempotent kafkajs producer (producer-lane.ts: one request in flight, acks=all,
 * replaced after a failure), by default in its own worker thread (producer-worker.ts) so that
 * kafkajs's request encoding does not compete with HTTP handling on the event loop. The coalescer
 * keeps at most one send in flight per lane and batches everything that arrives meanwhile. With
 * more than one lane, concurrent HTTP requests may reach Kafka in either order, which they may
 * anyway; the records of one request always travel in one send (one produce request).
 */
import type { Kafka, KafkaConfig as KafkaJsConfig } from 'kafkajs';
import type { LevelWithSilent } from 'pino';
import type { KafkaConfig } from '../../../../shared/config/common-config.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { OutgoingRecord } from '../ingest/prepare-ingest.ts';
import { BatchCoalescer } from './batch-coalescer.ts';
import type { CoalescerObserver, CoalescerStats } from './batch-coalescer.ts';
import { ProducerLane } from './producer-lane.ts';
import { WorkerLane } from './worker-lane.ts';
import type { Lane } from './worker-lane.ts';

/** What the HTTP layer needs from the writer (a fake in some tests). */
export interface IngestSink {
  /** Resolves once Kafka acknowledged every record (acks=all); rejects with a ProduceFailure otherwise. */
  submit(records: OutgoingRecord[], bytes: number): Promise<void>;
}

/** How lanes reach Kafka: worker threads (each builds its own client), or kafkajs on this thread. */
export type LaneMode =
  | {
      threads: true;
      kafka: KafkaConfig;
      clientOverrides: Partial<Pick<KafkaJsConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'>>;
      logLevel: LevelWithSilent;
    }
  | { threads: false; kafka: Kafka };

export interface IngestProducerOptions {
  mode: LaneMode;
  topic: string;
  /** Independent producers, each with one request in flight. */
  lanes: number;
  /** Bound on a request's wait for acknowledgement, queueing included, ms. */
  produceTimeoutMs: number;
  lingerMs: number;
  maxEvents: number;
  maxBytes: number;
  maxQueuedBytes: number;
  logger: Logger;
  observer?: CoalescerObserver;
}

/** Kafka as the writer sees it: connected lanes, and whether the latest send succeeded. */
export interface ProducerHealth {
  readonly connectedLanes: number;
  readonly lanes: number;
  /** Message of the latest send error, null when the latest completed send succeeded (or none ran). */
  readonly lastError: string | null;
}

/** See the file comment. */
export class KafkaIngestProducer implements IngestSink {
  private readonly lanes: Lane[];
  private readonly coalescer: BatchCoalescer<OutgoingRecord>;
  private lastError: string | null = null;

  constructor(opts: IngestProducerOptions) {
    this.lanes = Array.from({ length: opts.lanes }, (_, lane) => createLane(opts, lane));
    this.coalescer = new BatchCoalescer<OutgoingRecord>({
      send: (records, lane) => this.send(records, lane),
      lanes: opts.lanes,
      maxEvents: opts.maxEvents,
      maxBytes: opts.maxBytes,
      lingerMs: opts.lingerMs,
      timeoutMs: opts.produceTimeoutMs,
      maxQueuedBytes: opts.maxQueuedBytes,
      ...(opts.observer ? { observer: opts.observer } : {}),
    });
  }

  /** Connects every lane; rejects if Kafka cannot be reached (lanes also connect lazily on send). */
  async connect(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.connect()));
  }

  submit(records: OutgoingRecord[], bytes: number): Promise<void> {
    return this.coalescer.submit(records, bytes);
  }

  health(): ProducerHealth {
    return {
      connectedLanes: this.lanes.filter((l) => l.isConnected()).length,
      lanes: this.lanes.length,
      lastError: this.lastError,
    };
  }

  stats(): CoalescerStats {
    return this.coalescer.stats();
  }

  /** Flushes what is queued, waits for sends in flight, then disconnects every producer. */
  async close(): Promise<void> {
    await this.coalescer.close();
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }

  private async send(records: OutgoingRecord[], lane: number): Promise<void> {
    try {
      await (this.lanes[lane] as Lane).send(records);
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
}

function createLane(opts: IngestProducerOptions, lane: number): Lane {
  const logger = opts.logger.child({ component: 'ingest-producer', lane });
  if (opts.mode.threads) {
    return new WorkerLane(
      {
        lane,
        kafka: opts.mode.kafka,
        clientOverrides: opts.mode.clientOverrides,
        topic: opts.topic,
        produceTimeoutMs: opts.produceTimeoutMs,
        logLevel: opts.mode.logLevel,
      },
      logger,
    );
  }
  let connected = false;
  const inThread = new ProducerLane({
    kafka: opts.mode.kafka,
    topic: opts.topic,
    produceTimeoutMs: opts.produceTimeoutMs,
    logger,
    onConnectedChange: (value) => {
      connected = value;
    },
  });
  return {
    send: (records) => inThread.send(records.map((r) => ({ key: Buffer.from(r.key), value: r.value }))),
    connect: async () => {
      await inThread.ensureConnected();
    },
    isConnected: () => connected,
    close: () => inThread.close(),
  };
}
