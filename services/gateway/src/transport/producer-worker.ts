/**
 * Entry point of a producer thread: one ProducerLane (idempotent kafkajs producer) per worker.
 *
 * Why a thread: kafkajs encodes produce requests in JavaScript (CRC32C included), and each send has
 * its own per-request work and garbage. Unpatched that was about 20 µs of CPU per small record, the
 * largest cost of the gateway when it ran on the event loop that serves HTTP; with
 * patches/kafkajs+2.2.4.patch the encoding is about 1.2 µs per record, and the thread keeps the rest
 * off that loop. Records arrive packed in one transferred buffer (record-packing.ts), so the
 * hand-over costs one memcpy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KafkaConfig as KafkaJsConfig } from 'kafkajs';
import type { KafkaConfig } from '../../../../shared/config/common-config.ts';
import { createKafka } from '../../../../shared/kafka/kafka-client.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import type { LevelWithSilent } from 'pino';
import { ProducerLane } from './producer-lane.ts';
import { unpackRecords } from './record-packing.ts';
import type { PackedRecords } from './record-packing.ts';

/** What the main thread passes at start (structured-cloned). */
export interface ProducerWorkerData {
  lane: number;
  kafka: KafkaConfig;
  clientOverrides: Partial<Pick<KafkaJsConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'>>;
  topic: string;
  produceTimeoutMs: number;
  logLevel: LevelWithSilent;
}

/** Main thread → worker. */
export type ProducerWorkerRequest =
  | { type: 'send'; id: number; packed: PackedRecords }
  | { type: 'connect'; id: number }
  | { type: 'close'; id: number };

/** Worker → main thread. */
export type ProducerWorkerReply =
  { type: 'done'; id: number; error: string | null } | { type: 'connected'; value: boolean };

const port = parentPort;
if (port === null) throw new Error('producer-worker.ts must run in a worker thread');
const data = workerData as ProducerWorkerData;
const logger = createLogger('gateway', data.logLevel).child({
  component: 'ingest-producer',
  lane: data.lane,
});
const reply = (message: ProducerWorkerReply): void => port.postMessage(message);

const lane = new ProducerLane({
  kafka: createKafka(data.kafka, 'liftstream-gateway', logger, data.clientOverrides),
  topic: data.topic,
  produceTimeoutMs: data.produceTimeoutMs,
  logger,
  onConnectedChange: (value) => reply({ type: 'connected', value }),
});

port.on('message', (request: ProducerWorkerRequest) => {
  const settle = (work: Promise<unknown>): void => {
    work.then(
      () => reply({ type: 'done', id: request.id, error: null }),
      (err: unknown) =>
        reply({ type: 'done', id: request.id, error: err instanceof Error ? err.message : String(err) }),
    );
  };
  switch (request.type) {
    case 'send':
      settle(lane.send(unpackRecords(request.packed)));
      break;
    case 'connect':
      settle(lane.ensureConnected());
      break;
    case 'close':
      settle(lane.close());
      break;
  }
});
