/**
 * Encodes a case with the kafkajs installation at `kafkajsDir` into the bytes kafkajs writes to the
 * socket: the size prefix, the request header (api key and version, correlation id, client id) and the
 * Produce v3 body.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CASES_NOW } from './cases.ts';
import type { ProduceCase } from './cases.ts';

interface KafkaEncoder {
  readonly buffer: Buffer;
}
type ProduceRequestV3 = (args: Record<string, unknown>) => { encode(): Promise<KafkaEncoder> };
type CreateRequest = (args: {
  correlationId: number;
  clientId: string;
  request: ReturnType<ProduceRequestV3>;
}) => Promise<KafkaEncoder>;

/** kafkajs's Produce v3 request and its framing, from the installation at `kafkajsDir`. */
export function loadProduceRequest(kafkajsDir: string): {
  request: ProduceRequestV3;
  createRequest: CreateRequest;
  Long: { fromNumber(n: number): unknown };
} {
  const require = createRequire(path.join(kafkajsDir, 'package.json'));
  return {
    request: require('./src/protocol/requests/produce/v3/request.js') as ProduceRequestV3,
    createRequest: require('./src/protocol/request.js') as CreateRequest,
    Long: require('./src/utils/long.js') as { fromNumber(n: number): unknown },
  };
}

export async function encodeCase(kafkajsDir: string, c: ProduceCase): Promise<Buffer> {
  const { request, createRequest, Long } = loadProduceRequest(kafkajsDir);
  const realNow = Date.now;
  Date.now = () => CASES_NOW;
  try {
    const produce = request({
      acks: c.acks,
      timeout: 30_000,
      transactionalId: c.transactionalId,
      producerId: Long.fromNumber(123_456_789_012),
      producerEpoch: 3,
      compression: c.compression,
      topicData: c.topicData,
    });
    return (await createRequest({ correlationId: 7, clientId: 'liftstream-gateway-ü', request: produce }))
      .buffer;
  } finally {
    Date.now = realNow;
  }
}

export const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
