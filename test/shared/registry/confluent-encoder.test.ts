import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { readConfluentFrame } from '../../../shared/registry/confluent-avro-reader.ts';
import { confluentEncoder } from '../../../shared/registry/confluent-encoder.ts';

const type = avro.Type.forSchema({
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'unit', type: 'string' },
    { name: 'value', type: ['null', 'double'], default: null },
    { name: 'sign', type: 'int' },
  ],
});

/** The frame as built before: a header, then avsc's own buffer. */
function framedByConcat(value: unknown, id: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

describe('confluentEncoder', () => {
  it('writes the same bytes as header + toBuffer, for records smaller and larger than its scratch', () => {
    const encode = confluentEncoder(type, 300_001);
    const values = [
      { unit: 'u-1', value: 12.5, sign: 1 },
      { unit: 'ü/😀 unicode', value: null, sign: -1 },
      { unit: 'x'.repeat(10_000), value: 1e300, sign: 1 },
      { unit: 'x'.repeat(50_000), value: -0.5, sign: -1 },
      { unit: 'after growing', value: 3, sign: 1 },
    ];
    for (const value of values) expect(encode(value).equals(framedByConcat(value, 300_001))).toBe(true);
    const frame = readConfluentFrame(encode(values[1]));
    if (!frame.ok) throw new Error(frame.detail);
    expect(frame.schemaId).toBe(300_001);
    expect(type.fromBuffer(frame.body)).toEqual(values[1]);
  });

  it('returns a buffer of its own: the next record does not change an earlier one', () => {
    const encode = confluentEncoder(type, 7);
    const first = encode({ unit: 'first', value: 1, sign: 1 });
    const copy = Buffer.from(first);
    encode({ unit: 'second, longer than the first', value: 2, sign: -1 });
    expect(first.equals(copy)).toBe(true);
  });

  it('refuses a value the schema does not accept, as toBuffer does', () => {
    const encode = confluentEncoder(type, 7);
    expect(() => encode({ unit: 'u', sign: 'one' })).toThrow();
    expect(() => type.toBuffer({ unit: 'u', sign: 'one' })).toThrow();
    expect(
      encode({ unit: 'still fine', value: null, sign: 1 }).equals(
        framedByConcat({ unit: 'still fine', value: null, sign: 1 }, 7),
      ),
    ).toBe(true);
  });
});
