import { describe, expect, it } from 'vitest';
import { BATCH_ENVELOPE_BYTES, EventQueue, utf8Length, type QueuedEvent } from '../../sdk/src/event-queue.ts';

function item(seq: number, bytes = 10): QueuedEvent {
  const event = {
    type: 'track',
    event: 'e',
    user_id: `u${seq}`,
    message_id: `m${seq}`,
    timestamp: seq,
  } as const;
  return { event, json: 'x'.repeat(bytes), bytes, seq, sending: false };
}

const seqs = (items: readonly QueuedEvent[]): number[] => items.map((q) => q.seq);

describe('EventQueue', () => {
  it('drops the oldest event when full and returns it', () => {
    const q = new EventQueue(3);
    for (const seq of [1, 2, 3]) expect(q.push(item(seq))).toBeUndefined();
    expect(q.push(item(4))?.seq, 'the oldest makes room').toBe(1);
    expect(seqs(q.all())).toEqual([2, 3, 4]);
  });

  it('never drops an event that is in a request: the oldest not being sent goes', () => {
    const q = new EventQueue(3);
    const [a, b, c] = [item(1), item(2), item(3)];
    for (const x of [a, b, c]) q.push(x);
    a.sending = true;
    expect(q.push(item(4))?.seq).toBe(2);
    expect(seqs(q.all())).toEqual([1, 3, 4]);
  });

  it('drops the new event itself when every queued event is in a request', () => {
    const q = new EventQueue(2);
    const [a, b] = [item(1), item(2)];
    q.push(a);
    q.push(b);
    a.sending = b.sending = true;
    expect(q.push(item(3))?.seq).toBe(3);
    expect(seqs(q.all())).toEqual([1, 2]);
  });

  it('cuts batches by count and by body bytes, always at least one event', () => {
    const q = new EventQueue(100);
    for (let seq = 1; seq <= 10; seq++) q.push(item(seq, 100));
    expect(seqs(q.peekBatch(3, 1_000_000)), 'by count').toEqual([1, 2, 3]);
    // Envelope 12 + 4 × (100 + 1 separator) = 416 ≤ 420 < 517.
    expect(seqs(q.peekBatch(100, 420)), 'by bytes').toEqual([1, 2, 3, 4]);
    expect(seqs(q.peekBatch(100, 50)), 'an event larger than the limit still goes alone').toEqual([1]);
    expect(q.length, 'peeking takes nothing out').toBe(10);
    expect(BATCH_ENVELOPE_BYTES).toBe('{"batch":[]}'.length);
  });

  it('removes a batch from the head, or wherever its events are, skipping those already gone', () => {
    const q = new EventQueue(100);
    const items = [1, 2, 3, 4, 5].map((s) => item(s));
    for (const x of items) q.push(x);
    q.remove(items.slice(0, 2));
    expect(seqs(q.all())).toEqual([3, 4, 5]);
    q.remove([items[0] as QueuedEvent, items[3] as QueuedEvent]);
    expect(seqs(q.all())).toEqual([3, 5]);
    expect(q.oldestSeq()).toBe(3);
    expect(q.countUpTo(4)).toBe(1);
    expect(seqs(q.drain())).toEqual([3, 5]);
    expect(q.oldestSeq()).toBe(Infinity);
  });
});

describe('utf8Length', () => {
  it('equals the encoded length for ASCII, accents, CJK, emoji and lone surrogates', () => {
    for (const text of ['', 'plain', 'é', 'naïve café', '日本語', '👍🏽 ok', 'a\ud800b', '\udc00', 'x\ud83d']) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
    }
  });
});
