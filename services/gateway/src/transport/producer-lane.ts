/**
 * One idempotent kafkajs producer ("lane"), replaced after any failed send.
 *
 * Settings: `idempotent: true`, `maxInFlightRequests: 1`, acks=all, so produce requests are strictly
 * ordered and never duplicated by the client's own retries.
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
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { partitionForKey } from '../../../../shared/kafka/murmur2.ts';

export interface ProducerLaneOptions {
  kafka: Kafka;
  topic: string;
  /** Bound on one send (connect included), ms. */
  produceTimeoutMs: number;
  logger: Logger;
  /** Told whenever the lane gains or loses its connected producer. */
  onConnectedChange?: (connected: boolean) => void;
}

/**
 * Java-compatible murmur2 placement of the key, as kafkajs's DefaultPartitioner but with 32-bit
 * integer arithmetic instead of its Long emulation (the partitioner runs once per record).
 */
const keyPartitioner = () => (args: { partitionMetadata: unknown[]; message: Message }) => {
  const key = args.message.key;
  const bytes = typeof key === 'string' ? Buffer.from(key) : (key ?? Buffer.alloc(0));
  return partitionForKey(bytes, args.partitionMetadata.length);
};

/** See the file comment. */
export class ProducerLane {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** Bumped whenever the producer is discarded, so a late connect cannot reinstall a stale one. */
  private generation = 0;

  constructor(private readonly opts: ProducerLaneOptions) {}

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
      createPartitioner: keyPartitioner,
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
        this.opts.onConnectedChange?.(true);
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
    if (producer) this.opts.onConnectedChange?.(false);
    this.opts.logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'produce failed; replacing the producer (new producer id)',
    );
    // In the background: a send of the old producer may still be retrying; it ends on its own bound.
    if (producer) void producer.disconnect().catch(() => undefined);
  }
}
