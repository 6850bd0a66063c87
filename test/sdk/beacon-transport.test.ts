import { describe, expect, it } from 'vitest';
import { beaconBody, sendByBeacon } from '../../sdk/src/beacon-transport.ts';
import type { QueuedEvent } from '../../sdk/src/event-queue.ts';

function item(seq: number, size = 100): QueuedEvent {
  const event = {
    type: 'track',
    event: 'e',
    user_id: `u${seq}`,
    message_id: `m${seq}`,
    timestamp: seq,
  } as const;
  const json = JSON.stringify({
    ...event,
    note: 'x'.repeat(Math.max(0, size - JSON.stringify(event).length - 10)),
  });
  return { event, json, bytes: json.length, seq, sending: false };
}

describe('sendByBeacon', () => {
  it('sends the events as JSON text with the key in the body', () => {
    const sent: string[] = [];
    const items = [item(1), item(2)];
    const handed = sendByBeacon(
      (_, data) => (sent.push(data), true),
      'http://gw/v1/batch',
      'lsc_k',
      items,
      60_000,
    );
    expect(handed).toEqual(items);
    expect(JSON.parse(sent[0] ?? '')).toEqual({
      api_key: 'lsc_k',
      batch: items.map((q) => JSON.parse(q.json)),
    });
    expect(sent[0]).toBe(beaconBody('lsc_k', items));
  });

  it('splits into beacons no larger than maxBytes', () => {
    const sent: string[] = [];
    const items = Array.from({ length: 10 }, (_, i) => item(i, 300));
    sendByBeacon((_, data) => (sent.push(data), true), 'u', 'lsc_k', items, 1_000);
    expect(sent.length).toBeGreaterThan(3);
    for (const data of sent) expect(data.length).toBeLessThanOrEqual(1_000);
    expect(sent.flatMap((d) => (JSON.parse(d) as { batch: unknown[] }).batch)).toHaveLength(10);
  });

  it('stops at the first beacon the browser refuses and returns only what it took', () => {
    let budget = 2;
    const items = Array.from({ length: 10 }, (_, i) => item(i, 300));
    const handed = sendByBeacon(() => budget-- > 0, 'u', 'lsc_k', items, 1_000);
    expect(handed.map((q) => q.seq)).toEqual(items.slice(0, handed.length).map((q) => q.seq));
    expect(handed.length).toBeLessThan(10);
  });

  it('leaves an event larger than a beacon for fetch', () => {
    const handed = sendByBeacon(() => true, 'u', 'lsc_k', [item(1, 5_000), item(2)], 1_000);
    expect(handed.map((q) => q.seq)).toEqual([2]);
  });
});
