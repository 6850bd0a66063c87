import { describe, expect, it } from 'vitest';
import { splitRequests } from '../../../shared/streams/task-producer.ts';

const msg = (key: string, bytes: number) => ({ key, value: Buffer.alloc(bytes) });

describe('splitRequests', () => {
  it('keeps everything in one request when it fits', () => {
    const requests = splitRequests([{ topic: 'a', messages: [msg('k1', 100), msg('k2', 100)] }], {
      maxBytes: 1_000,
      maxRecords: 100,
    });
    expect(requests).toHaveLength(1);
  });

  it('splits by bytes and keeps the order of each topic across requests', () => {
    const a = Array.from({ length: 10 }, (_, i) => msg(`a${i}`, 300));
    const b = Array.from({ length: 5 }, (_, i) => msg(`b${i}`, 300));
    const requests = splitRequests(
      [
        { topic: 'a', messages: a },
        { topic: 'b', messages: b },
      ],
      { maxBytes: 1_000, maxRecords: 100 },
    );
    expect(requests.length, '15 records of ~330 bytes, 3 per request').toBe(5);
    for (const request of requests) {
      const bytes = request
        .flatMap((t) => t.messages)
        .reduce((s, m) => s + (m.value as Buffer).length + 26, 0);
      expect(bytes, 'each request under the bound').toBeLessThanOrEqual(1_000);
    }
    const keysOf = (topic: string) =>
      requests.flatMap((r) =>
        r.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)),
      );
    expect(keysOf('a'), 'topic a in order').toEqual(a.map((m) => m.key));
    expect(keysOf('b'), 'topic b in order').toEqual(b.map((m) => m.key));
  });

  it('sends a record larger than the bound alone (the broker then refuses it, visibly)', () => {
    const requests = splitRequests(
      [{ topic: 'a', messages: [msg('s', 10), msg('big', 5_000), msg('t', 10)] }],
      { maxBytes: 1_000, maxRecords: 100 },
    );
    expect(requests.map((r) => r[0]!.messages.map((m) => m.key))).toEqual([['s'], ['big'], ['t']]);
  });

  it('bounds the records per request too', () => {
    const messages = Array.from({ length: 25 }, (_, i) => msg(`k${i}`, 1));
    const requests = splitRequests([{ topic: 'a', messages }], { maxBytes: 1_000_000, maxRecords: 10 });
    expect(requests.map((r) => r[0]!.messages.length)).toEqual([10, 10, 5]);
  });

  it('counts strings by their UTF-8 length', () => {
    const messages = [
      { key: 'k', value: 'é'.repeat(300) },
      { key: 'l', value: 'x'.repeat(300) },
    ];
    const requests = splitRequests([{ topic: 'a', messages }], { maxBytes: 700, maxRecords: 100 });
    expect(requests, 'the 300-character é value counts as 600 bytes: the next does not fit').toHaveLength(2);
  });
});
