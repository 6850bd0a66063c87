/**
 * The gateway's Kafka writer: idempotent kafkajs producers ("lanes") behind a BatchCoalescer.
 *
 * Each lane is one producer with `idempotent: true`, `maxInFlightRequests: 1` and acks=all, so its
 * produce requests are strictly ordered and never duplicated by the client's own retries. The
 * coalescer keeps at most one send in flight per lane and batches everything that arrives meanwhile.
 * With more than one lane, concurrent HTTP requests may reach Kafka in either order, which they may
 * anyway; the records of one request always travel in one send (one produce request).
 *
 * Failure handling. A send is bounded by the produce timeout (kafkajs's idempotent producer would
 * otherwise retry forever, reconnecting as it goes). When a send fails or times out, the lane throws
 * its producer away and builds a new one on the next send. Why: kafkajs rolls its sequence numbers
 * back after a failed request, but the broker may have written the batch; reusing the producer id
 * could make the broker take the *next* batch for a duplicate and drop it while acknowledging it. A
 * new producer gets a new producer id, so that can never happen. The failed records are reported as
 * not acknowledged (503): the client retries with the same message_ids, and the processor removes
 * any duplicate by message_id.
 */
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { OutgoingRecord } from '../ingest/prepare-ingest.ts';
import { BatchCoalescer } from './batch-coalescer.ts';
import type { CoalescerObserver, CoalescerStats } from './batch-coalescer.ts';

/** What the HTTP layer needs from the writer (a fake in some tests). */
export interface IngestSink {
  /** Resolves once Kafka acknowledged every record (acks=all); rejects with a ProduceFailure otherwise. */
  submit(records: OutgoingRecord[], bytes: number): Promise<void>;
}

export interface IngestProducerOptions {
  kafka: Kafka;
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
  private readonly lanes: ProducerLane[];
  private readonly coalescer: BatchCoalescer<OutgoingRecord>;
  private lastError: string | null = null;

  constructor(private readonly opts: IngestProducerOptions) {
    this.lanes = Array.from({ length: opts.lanes }, (_, i) => new ProducerLane(opts, i));
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
    await Promise.all(this.lanes.map((lane) => lane.ensureConnected()));
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
      await (this.lanes[lane] as ProducerLane).send(records as Message[]);
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
}

/** One idempotent producer, replaced after any failed send (see the file comment). */
class ProducerLane {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** Bumped whenever the producer is discarded, so a late connect cannot reinstall a stale one. */
  private generation = 0;
  private readonly logger: Logger;

  constructor(
    private readonly opts: IngestProducerOptions,
    index: number,
  ) {
    this.logger = opts.logger.child({ component: 'ingest-producer', lane: index });
  }

  isConnected(): boolean {
    return this.producer !== undefined;
  }

  ensureConnected(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (this.connecting) return this.connecting;
    const generation = this.generation;
    const producer = this.opts.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2 on the key (kafkajs 2's default, named to say so): the processor and
      // clients in any language place `<project>/<id>` on the same partition.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, unlike kafkajs's idempotent default (retry forever): a send that cannot succeed must
      // fail so the request gets a 503 and the lane a fresh producer. kafkajs logs a warning about
      // this; replacing the producer after a failure is what keeps the guarantee (file comment).
      retry: { retries: 3 },
    });
    const connecting = producer.connect().then(
      () => {
        if (generation !== this.generation) {
          void producer.disconnect().catch(() => undefined);
          throw new Error('producer was discarded while connecting');
        }
        this.producer = producer;
        this.connecting = undefined;
        return producer;
      },
      (err: unknown) => {
        if (generation === this.generation) this.connecting = undefined;
        void producer.disconnect().catch(() => undefined);
        throw err;
      },
    );
    this.connecting = connecting;
    return connecting;
  }

  /** Sends one produce request (acks=all), bounded by the produce timeout; discards the producer on failure. */
  async send(messages: Message[]): Promise<void> {
    const timeoutMs = this.opts.produceTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no acknowledgement from Kafka within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          const producer = await this.ensureConnected();
          await producer.send({ topic: this.opts.topic, messages, acks: -1, timeout: timeoutMs });
        })(),
        timeout,
      ]);
    } catch (err) {
      this.discard(err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.generation++;
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    if (producer) await producer.disconnect().catch(() => undefined);
  }

  private discard(err: unknown): void {
    this.generation++;
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    this.logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'produce failed; replacing the producer (new producer id)',
    );
    // In the background: a send of the old producer may still be retrying; it ends on its own bound.
    if (producer) void producer.disconnect().catch(() => undefined);
  }
}
