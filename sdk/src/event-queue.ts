/**
 * The bounded in-memory queue of events not yet delivered, oldest first. An event stays in it until
 * the gateway answered for it (accepted or refused), it went out by beacon, or it was dropped: when
 * the queue is full the oldest event not being sent right now makes room, and the caller counts it.
 */
import type { WireEvent } from './event-types.ts';

/** One queued event, serialised once when created, so every retry sends the same bytes. */
export interface QueuedEvent {
  readonly event: WireEvent;
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
  /** Creation order, from 1; the queue is sorted by it. */
  readonly seq: number;
  /** In a request that has not been answered yet. */
  sending: boolean;
}

/** `{"batch":[` + `]}`; the separators are counted per event. */
export const BATCH_ENVELOPE_BYTES = 12;

export class EventQueue {
  private items: QueuedEvent[] = [];

  /** @param maxEvents the most events held; the oldest not being sent is dropped beyond it. */
  constructor(private readonly maxEvents: number) {}

  get length(): number {
    return this.items.length;
  }

  /** Sequence number of the oldest queued event; Infinity when empty. */
  oldestSeq(): number {
    return this.items[0]?.seq ?? Infinity;
  }

  /** How many queued events were created at or before `seq`. */
  countUpTo(seq: number): number {
    let n = 0;
    while (n < this.items.length && (this.items[n] as QueuedEvent).seq <= seq) n++;
    return n;
  }

  /**
   * Appends `item`; returns the event dropped to make room, if any: the oldest one not being sent,
   * or `item` itself when every queued event is in a request (a request's events are not dropped
   * under it: they may arrive).
   */
  push(item: QueuedEvent): QueuedEvent | undefined {
    if (this.items.length < this.maxEvents) {
      this.items.push(item);
      return undefined;
    }
    const victim = this.items.findIndex((q) => !q.sending);
    if (victim === -1) return item;
    const [dropped] = this.items.splice(victim, 1);
    this.items.push(item);
    return dropped;
  }

  /**
   * The oldest events that fit in one request: at most `maxEvents`, at most `maxBytes` of body
   * (always at least one event). They stay queued until `remove`.
   */
  peekBatch(maxEvents: number, maxBytes: number): QueuedEvent[] {
    const batch: QueuedEvent[] = [];
    let bytes = BATCH_ENVELOPE_BYTES;
    for (const item of this.items) {
      if (batch.length >= maxEvents) break;
      if (batch.length > 0 && bytes + item.bytes + 1 > maxBytes) break;
      batch.push(item);
      bytes += item.bytes + 1;
    }
    return batch;
  }

  /** Takes `done` out of the queue; events already gone (dropped, sent by beacon) are skipped. Returns how many it took. */
  remove(done: readonly QueuedEvent[]): number {
    if (done.length === 0) return 0;
    // The common case: `done` is the head of the queue, in order.
    let k = 0;
    while (k < done.length && this.items[k] === done[k]) k++;
    if (k === done.length) {
      this.items.splice(0, k);
      return k;
    }
    const before = this.items.length;
    const gone = new Set(done);
    this.items = this.items.filter((q) => !gone.has(q));
    return before - this.items.length;
  }

  /** Empties the queue and returns what it held. */
  drain(): QueuedEvent[] {
    const all = this.items;
    this.items = [];
    return all;
  }

  /** Everything queued, oldest first (a copy). */
  all(): QueuedEvent[] {
    return this.items.slice();
  }
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/** UTF-8 byte length of a string without encoding it (lone surrogates count as the 3 bytes of U+FFFD). */
export function utf8Length(text: string): number {
  // Most events are ASCII: one native scan instead of a loop over every character.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair: 2 code units, 4 bytes.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
