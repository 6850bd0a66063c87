/**
 * The last chance of a page that is going away: navigator.sendBeacon hands the body to the browser,
 * which sends it after the page is gone. A beacon cannot carry headers, so the body is text/plain
 * JSON (no CORS preflight) with the client key in its `api_key` field, and uncompressed (compressing
 * is asynchronous and the page may not get another turn). The answer is never seen: a beacon the
 * browser accepted counts as sent.
 */
import { BATCH_ENVELOPE_BYTES } from './event-queue.ts';
import type { QueuedEvent } from './event-queue.ts';

/** The browser API, typed here so the SDK compiles without the DOM library. */
export type SendBeacon = (url: string, data: string) => boolean;

/**
 * Browsers refuse a beacon when the page's keepalive bodies in flight would exceed 64 KiB; staying
 * under it per beacon leaves room for a keepalive fetch already under way.
 */
export const DEFAULT_BEACON_MAX_BYTES = 60_000;

/** The body of one beacon. */
export function beaconBody(key: string, items: readonly QueuedEvent[]): string {
  return `{"api_key":${JSON.stringify(key)},"batch":[${items.map((q) => q.json).join(',')}]}`;
}

/**
 * Sends `items` in beacons of at most `maxBytes` each, oldest first, until the browser refuses one
 * (its keepalive quota is spent). Returns the events handed over; the rest stay with the caller.
 */
export function sendByBeacon(
  sendBeacon: SendBeacon,
  url: string,
  key: string,
  items: readonly QueuedEvent[],
  maxBytes: number,
): QueuedEvent[] {
  const sent: QueuedEvent[] = [];
  const overhead = BATCH_ENVELOPE_BYTES + key.length + 14;
  let chunk: QueuedEvent[] = [];
  let bytes = overhead;
  const flushChunk = (): boolean => {
    if (chunk.length === 0) return true;
    if (!sendBeacon(url, beaconBody(key, chunk))) return false;
    sent.push(...chunk);
    chunk = [];
    bytes = overhead;
    return true;
  };
  for (const item of items) {
    if (item.bytes + overhead > maxBytes) continue; // can never go by beacon; left for fetch
    if (bytes + item.bytes + 1 > maxBytes && !flushChunk()) return sent;
    chunk.push(item);
    bytes += item.bytes + 1;
  }
  flushChunk();
  return sent;
}
