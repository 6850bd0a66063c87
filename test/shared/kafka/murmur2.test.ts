import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../shared/kafka/murmur2.ts';

/** kafkajs's own (Long-based) implementation, the reference the fast one must equal. */
const kafkajsMurmur2 = createRequire(import.meta.url)(
  'kafkajs/src/producer/partitioners/default/murmur2.js',
) as (key: Buffer) => number;

describe('murmur2', () => {
  it.each([
    // Vectors of Kafka's Java UtilsTest.testMurmur2.
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j like the Java client', (text, expected) => {
    expect(murmur2(Buffer.from(text))).toBe(expected);
  });

  it('equals kafkajs murmur2 on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const key = Buffer.from(bytes);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }),
      { numRuns: 2_000 },
    );
  });

  it('places keys like kafkajs DefaultPartitioner (positive hash modulo partitions)', () => {
    const key = Buffer.from('acme/user-42');
    expect(partitionForKey(key, 8)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 8);
  });
});
