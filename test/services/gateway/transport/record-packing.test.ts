import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packRecords, unpackRecords } from '../../../../services/gateway/src/transport/record-packing.ts';

describe('record packing', () => {
  it('round-trips keys (UTF-8) and values, in order', () => {
    const records = [
      { key: 'acme/u1', value: Buffer.from([0, 1, 2]) },
      { key: 'acme/ü-🚀', value: Buffer.alloc(0) },
      { key: '', value: Buffer.from('x') },
    ];
    const views = unpackRecords(packRecords(records));
    expect(views.map((v) => v.key.toString('utf8'))).toEqual(['acme/u1', 'acme/ü-🚀', '']);
    expect(views.map((v) => [...v.value])).toEqual([[0, 1, 2], [], [120]]);
  });

  it('round-trips any records', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ key: fc.string({ unit: 'grapheme' }), value: fc.uint8Array({ maxLength: 300 }) }),
        ),
        (raw) => {
          const records = raw.map((r) => ({ key: r.key, value: Buffer.from(r.value) }));
          const views = unpackRecords(packRecords(records));
          expect(views.map((v) => v.key.toString('utf8'))).toEqual(records.map((r) => r.key));
          expect(views.map((v, i) => Buffer.compare(v.value, records[i]?.value ?? Buffer.alloc(0)))).toEqual(
            records.map(() => 0),
          );
        },
      ),
    );
  });

  it('owns its ArrayBuffer, so transferring it cannot detach Node’s buffer pool', () => {
    const small = [{ key: 'k', value: Buffer.from('v') }];
    const packed = packRecords(small);
    expect(packed.data.byteLength, 'sized for this batch, not an 8 KiB pool slab').toBeLessThan(16);
    structuredClone(packed, { transfer: [packed.data] });
    expect(packed.data.byteLength, 'transferred (detached)').toBe(0);
    expect(Buffer.from('still usable').toString()).toBe('still usable');
  });
});
