import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ConfluentBatchEncoder } from '../../../../services/gateway/src/transport/confluent-encoder.ts';

const type = avro.Type.forSchema({
  type: 'record',
  name: 'T',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'n', type: ['null', 'double'], default: null },
  ],
});

describe('ConfluentBatchEncoder', () => {
  it('frames each value with magic byte 0 and the big-endian schema id', () => {
    const [wire] = new ConfluentBatchEncoder(type, 258).encodeBatch([{ id: 'a', n: 1.5 }]);
    expect(wire?.readUInt8(0)).toBe(0);
    expect(wire?.readUInt32BE(1)).toBe(258);
    expect(type.fromBuffer((wire as Buffer).subarray(5))).toEqual({ id: 'a', n: 1.5 });
  });

  it('returns one value per input, in order, equal to avsc toBuffer', () => {
    const values = Array.from({ length: 50 }, (_, i) => ({ id: `id-${i}`, n: i % 2 ? i : null }));
    const wires = new ConfluentBatchEncoder(type, 7).encodeBatch(values);
    expect(wires.map((w) => w.subarray(5).toString('hex'))).toEqual(
      values.map((v) => type.toBuffer(v).toString('hex')),
    );
  });

  it('grows its scratch buffer when a batch does not fit', () => {
    const encoder = new ConfluentBatchEncoder(type, 7, 16);
    const values = Array.from({ length: 20 }, (_, i) => ({ id: 'x'.repeat(100 + i), n: i }));
    const wires = encoder.encodeBatch(values);
    expect(wires.map((w) => (type.fromBuffer(w.subarray(5)) as { id: string }).id.length)).toEqual(
      values.map((v) => v.id.length),
    );
  });

  it('gives each request its own output: later batches do not overwrite earlier values', () => {
    const encoder = new ConfluentBatchEncoder(type, 7);
    const [first] = encoder.encodeBatch([{ id: 'first', n: null }]);
    encoder.encodeBatch([{ id: 'second', n: null }]);
    expect((type.fromBuffer((first as Buffer).subarray(5)) as { id: string }).id).toBe('first');
  });

  it('throws on a value the schema does not accept (a defect, not bad data: validation ran before)', () => {
    expect(() => new ConfluentBatchEncoder(type, 7).encodeBatch([{ id: 3 }])).toThrow();
  });
});
