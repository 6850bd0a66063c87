/**
 * The Kafka side of `liftstream tail`: reads the ingest topic from its end, as the processor reads it
 * (Confluent-framed Avro, writer schemas from the registry, the processor's own record reader), without
 * touching anyone's offsets: a consumer group of its own with a random id that never commits (an empty
 * group without offsets, which the broker drops by itself once it disconnects).
 */
import { randomUUID } from 'node:crypto';
import type { IngestEvent } from '../../services/processor/src/index.ts';
import { ConfluentAvroReader, readIngestRecord } from '../../services/processor/src/index.ts';
import type { CommonConfig } from '../../shared/config/common-config.ts';
import { createKafka } from '../../shared/kafka/kafka-client.ts';
import { topicNames } from '../../shared/kafka/topics.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { AvroSchemaRegistry } from '../../shared/registry/schema-registry.ts';
import { failure, unavailable } from './cli-error.ts';

export interface FollowHandlers {
  /** Once: offsets are resolved at the topic's end; every event accepted from now on will be seen. */
  ready(topic: string): void;
  event(event: IngestEvent): void;
  /** A record that is not an ingest event this build can read (another producer, an unknown schema). */
  unreadable(reason: string, where: { partition: number; offset: string }): void;
}

/**
 * Follows `<TOPIC_PREFIX>ingest` until `stop` is aborted, then disconnects (leaving the group) and
 * resolves. Rejects with a CliError: exit 3 when Kafka or the registry cannot be reached, 1 when the
 * topic does not exist.
 */
export async function followIngest(
  config: Pick<CommonConfig, 'kafka' | 'registryUrl'>,
  handlers: FollowHandlers,
  stop: AbortSignal,
): Promise<void> {
  const topic = topicNames(config.kafka.topicPrefix).ingest;
  const brokers = config.kafka.brokers.join(',');
  // kafkajs's own logs would be JSON on stderr; its failures reach us as exceptions, worded below.
  const kafka = createKafka(config.kafka, 'liftstream-tail', createLogger('liftstream-tail', 'silent'));
  await checkTopic(kafka, topic, brokers);
  if (stop.aborted) return;

  const reader = new ConfluentAvroReader(new AvroSchemaRegistry(config.registryUrl));
  const consumer = kafka.consumer({
    groupId: `liftstream-tail-${randomUUID()}`,
    allowAutoTopicCreation: false,
    // Latency of an idle follow: a fetch returns after this when nothing new arrived.
    maxWaitTimeInMs: 500,
  });
  let failed: (error: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    failed = reject;
    stop.addEventListener('abort', () => resolve(), { once: true });
  });
  // Awaited below; until then a failure must not count as an unhandled rejection.
  finished.catch(() => undefined);
  let announced = false;
  // The first completed fetch comes after kafkajs resolved each partition's offset (the end, for a group
  // that never committed), so from here on no accepted event can be missed.
  consumer.on(consumer.events.FETCH, () => {
    if (announced) return;
    announced = true;
    handlers.ready(topic);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) failed(kafkaUnavailable(brokers, payload.error));
  });
  try {
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          try {
            await reader.prepare(batch.messages.map((m) => m.value));
          } catch (err) {
            failed(
              unavailable(
                `the schema registry at ${config.registryUrl} (SCHEMA_REGISTRY_URL) did not give the events' schemas: ${message(err)}`,
                err,
              ),
            );
            return;
          }
          for (const m of batch.messages) {
            const where = { partition: batch.partition, offset: m.offset };
            const avro = reader.read(m.value);
            const read = avro.ok ? readIngestRecord(avro.value) : avro;
            if (read.ok) handlers.event(read.event);
            else handlers.unreadable(read.reason, where);
          }
        },
      });
    } catch (err) {
      throw kafkaUnavailable(brokers, err);
    }
    await finished;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/** The topic must exist: subscribing to a missing one would wait forever (or create it, elsewhere). */
async function checkTopic(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  brokers: string,
): Promise<void> {
  const admin = kafka.admin();
  let topics: string[];
  try {
    await admin.connect();
    topics = await admin.listTopics();
  } catch (err) {
    throw kafkaUnavailable(brokers, err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (topics.includes(topic)) return;
  const others = topics.filter((t) => t.endsWith('ingest'));
  throw failure(
    `Kafka at ${brokers} has no topic "${topic}"; ` +
      (others.length > 0
        ? `its ingest topics: ${others.slice(0, 10).join(', ')} (set TOPIC_PREFIX to their prefix)`
        : 'the gateway creates it when it starts: start it, or check KAFKA_BROKERS and TOPIC_PREFIX'),
  );
}

function kafkaUnavailable(brokers: string, err: unknown) {
  return unavailable(`cannot read from Kafka at ${brokers} (KAFKA_BROKERS): ${message(err)}`, err);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
