/**
 * Where each freshness probe is in Kafka, for the per-stage split (issue 19): a read_committed consumer
 * of `ingest`, `exposures` and `attributed` that keeps, for the probe project's records (keys
 * `soak-probe/probe-<n>`), their Kafka timestamps (the gateway's produce time on ingest, the processor's
 * produce time, inside its transaction, on the outputs) and when this consumer saw them: for the outputs
 * that is when the processor's transaction committed, plus a fetch (it asks with minBytes 1, so the
 * broker answers as soon as the records are readable).
 *
 * It reads every record of those topics (the load's too), so it costs this process a few µs per record.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { TopicNames } from '../../shared/kafka/topics.ts';
import { PROBE_PROJECT } from './freshness-probe.ts';

/** Kafka times of one probe, Date.now() ms; the latest of its records on each topic. */
export interface ProbeKafkaTimes {
  /** Ingest records' timestamp (the gateway produced them) and when they were readable. */
  ingestTs?: number;
  ingestSeenAt?: number;
  /** Output rows (exposures and attributed): the processor's produce timestamp and when committed. */
  outputTs?: number;
  outputSeenAt?: number;
  /** Output rows seen so far (an exposure and an attributed row make a probe complete). */
  outputs: Set<'exposures' | 'attributed'>;
}

const KEY_PREFIX = `${PROBE_PROJECT}/probe-`;

export class ProbeWatcher {
  readonly times = new Map<number, ProbeKafkaTimes>();
  private readonly consumer: Consumer;
  private readonly groupId = `freshness-watch-${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: TopicNames,
  ) {
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      minBytes: 1,
      maxWaitTimeInMs: 50,
    });
  }

  /** Subscribes from the start of the topics and resolves once it has joined. */
  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [this.topics.ingest, this.topics.exposures, this.topics.attributed],
      fromBeginning: true,
    });
    const joined = new Promise<void>((resolve) =>
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()),
    );
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        const seenAt = Date.now();
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8');
          if (key === undefined || !key.startsWith(KEY_PREFIX)) continue;
          const n = Number(key.slice(KEY_PREFIX.length));
          if (!Number.isInteger(n)) continue;
          const ts = Number(message.timestamp);
          const t = this.times.get(n) ?? { outputs: new Set() };
          if (batch.topic === this.topics.ingest) {
            t.ingestTs = Math.max(t.ingestTs ?? 0, ts);
            t.ingestSeenAt = Math.max(t.ingestSeenAt ?? 0, seenAt);
          } else {
            t.outputTs = Math.max(t.outputTs ?? 0, ts);
            t.outputSeenAt = Math.max(t.outputSeenAt ?? 0, seenAt);
            t.outputs.add(batch.topic === this.topics.exposures ? 'exposures' : 'attributed');
          }
          this.times.set(n, t);
        }
      },
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
    const admin = this.kafka.admin();
    await admin.connect().catch(() => undefined);
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
