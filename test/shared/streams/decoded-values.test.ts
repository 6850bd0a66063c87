import { describe, expect, it } from 'vitest';
import { BatchOutput } from '../../../shared/streams/batch-output.ts';
import { attachDecoded, carryDecoded, decodedOf } from '../../../shared/streams/decoded-values.ts';

describe('decoded values beside records', () => {
  it('pushWithDecoded keeps the object with its message through take()', () => {
    const out = new BatchOutput();
    const decoded = { unit: 'u1', n: 1 };
    out.pushWithDecoded('units', 'u1', JSON.stringify(decoded), decoded);
    out.push('units', 'u2', '{"unit":"u2"}');
    const [first, second] = out.take('units', () => true);
    expect(decodedOf(first!), 'the same object, not a copy').toBe(decoded);
    expect(decodedOf(second!), 'a plain push has none: its reader decodes').toBeUndefined();
    expect(first!.value).toBe('{"unit":"u1","n":1}');
  });

  it('append() carries the objects to the copied messages', () => {
    const earlier = new BatchOutput();
    earlier.push('units', 'u0', 'x');
    const later = new BatchOutput();
    const decoded = { unit: 'u1' };
    later.pushWithDecoded('units', 'u1', '{"unit":"u1"}', decoded);
    earlier.append(later);
    const taken = earlier.take('units', (m) => m.key === 'u1');
    expect(taken).toHaveLength(1);
    expect(decodedOf(taken[0]!)).toBe(decoded);
  });

  it('carryDecoded moves an association to a converted record; nothing to move leaves none', () => {
    const decoded = { a: 1 };
    const from = {};
    const to = {};
    attachDecoded(from, decoded);
    carryDecoded(from, to);
    expect(decodedOf(to)).toBe(decoded);
    const bare = {};
    carryDecoded({}, bare);
    expect(decodedOf(bare)).toBeUndefined();
  });
});
