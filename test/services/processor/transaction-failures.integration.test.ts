/**
 * The recovery paths of a failed transaction, forced: the processor gets a Kafka client whose
 * transactional producers fail some transactions on purpose (the broker and everything else are
 * real). Each path must leave the outputs exactly equal to the batch reference:
 * - sendOffsets fails: the transaction is aborted, the chunk re-read from the last commit;
 * - the commit succeeds but its answer is "lost": outcome unknown, settled as committed;
 * - the commit request is "lost" (never sent): outcome unknown, settled as aborted by the next
 *   producer's initialisation.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Kafka, Producer, ProducerConfig } from 'kafkajs';
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { loadProcessorConfig } from '../../../services/processor/src/config.ts';
import { StreamProcessor } from '../../../services/processor/src/stream-processor.ts';
import {
  AvroSchemaRegistry,
  deleteTopics,
  eventually,
  IngestProducer,
  OutputReader,
  randomPrefix,
  sortRows,
  testKafka,
  writeProjectsFile,
} from '../../helpers/processor/kafka-harness.ts';
import { referenceRows } from '../../helpers/processor/reference-attribution.ts';
import { generateScenario } from '../../helpers/processor/scenario.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');

interface Injected {
  sendOffsetsFailed: number;
  commitAnswerLost: number;
  commitRequestLost: number;
}

/** `real`, except that transactional producers fail every 7th, 11th and 13th transaction. */
function flakyKafka(real: Kafka, injected: Injected): Kafka {
  let transactions = 0;
  const wrapProducer = (producer: Producer): Producer =>
    new Proxy(producer, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return async () => {
          const txn = await target.transaction();
          const k = ++transactions;
          return {
            ...txn,
            sendOffsets: async (offsets: Parameters<typeof txn.sendOffsets>[0]) => {
              if (k % 7 === 0) {
                injected.sendOffsetsFailed++;
                throw new Error('injected: sendOffsets failed');
              }
              return txn.sendOffsets(offsets);
            },
            commit: async () => {
              if (k % 11 === 0) {
                await txn.commit();
                injected.commitAnswerLost++;
                throw new Error('injected: the commit answer was lost');
              }
              if (k % 13 === 0) {
                injected.commitRequestLost++;
                throw new Error('injected: the commit request was lost');
              }
              return txn.commit();
            },
          };
        };
      },
    });
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'producer') return Reflect.get(target, prop, receiver);
      return (config?: ProducerConfig) => {
        const producer = target.producer(config);
        return config?.transactionalId === undefined ? producer : wrapProducer(producer);
      };
    },
  });
}

describe('processor transactions that fail on purpose', () => {
  const prefix = randomPrefix();
  const kafka = testKafka(brokers);
  const admin = kafka.admin();
  const registry = new AvroSchemaRegistry(registryUrl);
  const projectsFile = writeProjectsFile();
  const injected: Injected = { sendOffsetsFailed: 0, commitAnswerLost: 0, commitRequestLost: 0 };
  let processor: StreamProcessor;

  beforeAll(async () => {
    await admin.connect();
    const config = loadProcessorConfig({
      KAFKA_BROKERS: brokers,
      SCHEMA_REGISTRY_URL: registryUrl,
      TOPIC_PREFIX: prefix,
      TOPIC_PARTITIONS: '2',
      PROCESSOR_APP_ID: `test-app-${prefix}`,
      PROJECTS_FILE: projectsFile,
      // Small chunks: many transactions, so every failure kind happens several times.
      MAX_RECORDS_PER_TRANSACTION: '40',
    });
    processor = new StreamProcessor({
      config,
      kafka: flakyKafka(testKafka(brokers), injected),
      registry,
      catalog: loadProjectCatalog(projectsFile),
      logger: createLogger('processor-test', 'silent'),
    });
    await processor.start();
  });

  afterAll(async () => {
    await processor?.stop();
    await deleteTopics(admin, prefix);
    await admin.disconnect();
  });

  it('aborted, committed-but-unanswered and never-committed transactions all end exactly once', async () => {
    const events = generateScenario({ units: 200, seed: 99, nowMs: Date.now() });
    const ingest = new IngestProducer(kafka, registry, `${prefix}ingest`);
    await ingest.connect();
    const reader = new OutputReader(kafka, registryUrl, prefix);
    await reader.start();
    await ingest.send(events);
    const truth = referenceRows(events, () => 'cumulative');
    const same = (): boolean => {
      const s = reader.snapshot();
      return (
        JSON.stringify(sortRows(s.exposures)) === JSON.stringify(sortRows(truth.exposures)) &&
        JSON.stringify(sortRows(s.attributed)) === JSON.stringify(sortRows(truth.attributed))
      );
    };
    const converged = await eventually(same, 90_000, 500);
    await new Promise((r) => setTimeout(r, 2_000));
    const snapshot = reader.snapshot();
    await reader.stop();
    await ingest.disconnect();

    expect(injected.sendOffsetsFailed, 'aborted transactions happened').toBeGreaterThan(0);
    expect(injected.commitAnswerLost, 'committed-but-unanswered transactions happened').toBeGreaterThan(0);
    expect(injected.commitRequestLost, 'never-committed transactions happened').toBeGreaterThan(0);
    expect(snapshot.violations, 'no row total outside {0, 1}').toEqual([]);
    expect(converged, 'outputs converge to the reference').toBe(true);
    expect(sortRows(snapshot.exposures)).toEqual(sortRows(truth.exposures));
    expect(sortRows(snapshot.attributed)).toEqual(sortRows(truth.attributed));
    const results = Object.fromEntries(
      (await processor.metrics.transactions.get()).values.map((v) => [
        `${v.labels.stage}:${v.labels.result}`,
        v.value,
      ]),
    );
    const count = (result: string): number =>
      (results[`identity:${result}`] ?? 0) + (results[`units:${result}`] ?? 0);
    expect(count('abort'), 'aborts counted').toBeGreaterThan(0);
    expect(count('unknown'), 'unknown outcomes counted').toBeGreaterThan(0);
  });
});
