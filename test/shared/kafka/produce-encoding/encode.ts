/**
 * Encodes a case with the kafkajs installation at `kafkajsDir` into the bytes that go on the wire
 * (size prefix and request body, without the request header).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CASES_NOW } from './cases.ts';
import type { ProduceCase } from './cases.ts';

interface KafkaEncoder {
  size(): number;
  writeInt32(value: number): KafkaEncoder;
  writeEncoder(value: KafkaEncoder): KafkaEncoder;
  readonly buffer: Buffer;
}
type ProduceRequestV3 = (args: Record<string, unknown>) => { encode(): Promise<KafkaEncoder> };

export async function encodeCase(kafkajsDir: string, c: ProduceCase): Promise<Buffer> {
  const require = createRequire(path.join(kafkajsDir, 'package.json'));
  const Encoder = require('./src/protocol/encoder.js') as new () => KafkaEncoder;
  const request = require('./src/protocol/requests/produce/v3/request.js') as ProduceRequestV3;
  const Long = require('./src/utils/long.js') as { fromNumber(n: number): unknown };
  const realNow = Date.now;
  Date.now = () => CASES_NOW;
  try {
    const body = await request({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'tx',
      producerId: Long.fromNumber(123_456_789_012),
      producerEpoch: 3,
      compression: c.compression,
      topicData: c.topicData,
    }).encode();
    return new Encoder().writeInt32(body.size()).writeEncoder(body).buffer;
  } finally {
    Date.now = realNow;
  }
}

export const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
