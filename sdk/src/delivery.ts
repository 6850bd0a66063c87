/**
 * Gets queued events to the gateway: batches by count, bytes and time, one request at a time, retries
 * by the retry policy, reports what the gateway refused, and drains by beacon when a page goes away.
 *
 * - A batch is sent when `flushAt` events are queued, `flushIntervalMs` after the oldest unsent event
 *   was queued, or on flush(); while a backlog remains, batches follow one another at once.
 * - A failed attempt that may be retried leaves its events at the head of the queue and pauses sending
 *   for the backoff; the next attempt re-cuts a batch from the head (same events, same message_ids:
 *   idempotent whichever grouping carries them).
 * - Nothing here blocks the caller: adding an event is a push and at most a timer.
 */
import { LiftstreamError } from './errors.ts';
import type { ErrorHandler } from './errors.ts';
import type { WireEvent } from './event-types.ts';
import { BATCH_ENVELOPE_BYTES, EventQueue, utf8Length } from './event-queue.ts';
import type { QueuedEvent } from './event-queue.ts';
import { sendByBeacon } from './beacon-transport.ts';
import type { SendBeacon } from './beacon-transport.ts';
import type { SendOutcome, Transport } from './fetch-transport.ts';
import { judgeAttempt, retryDelayMs } from './retry-policy.ts';
import type { RetryOptions } from './retry-policy.ts';
import { backgroundTimer } from './runtime-hooks.ts';

export interface DeliveryOptions {
  /** Events queued that trigger a send. */
  flushAt: number;
  /** Longest time (ms) an event waits in the queue before a send when fewer than flushAt are queued. */
  flushIntervalMs: number;
  /** Most events per request. */
  maxBatchEvents: number;
  /** Most bytes of uncompressed JSON body per request; a larger single event is refused as invalid. */
  maxBatchBytes: number;
  /** Most events held while the gateway is unreachable; the oldest is dropped beyond it. */
  maxQueueSize: number;
  retry: RetryOptions;
  transport: Transport;
  /** Present where pages can send beacons. */
  beacon?: { send: SendBeacon; url: string; key: string; maxBytes: number } | undefined;
  report: ErrorHandler;
  random: () => number;
}

/** Counters since the client was created. */
export interface DeliveryStats {
  /** Events waiting (including those in a request under way). */
  queued: number;
  /** Events in 200 answers the gateway accepted (neither rejected nor dropped as bots). */
  delivered: number;
  /** Events the gateway dropped as sent by known bots (`context.user_agent`); counted, not analysed. */
  droppedAsBots: number;
  /** Events the gateway rejected one by one. */
  rejected: number;
  /** Events in requests refused whole. */
  refused: number;
  /** Events dropped because the queue was full. */
  droppedQueueFull: number;
  /** Events handed to the browser by sendBeacon. */
  beaconed: number;
  /** Events still queued when close() ran out of time. */
  undelivered: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** Exposures not sent again (maintained by the client). */
  exposuresDeduplicated: number;
}

/** What a flush or close came to. */
export interface FlushResult {
  /** Events of this flush still queued when it returned (0: all were answered for). */
  pending: number;
}

interface Waiter {
  /** Settled once no queued event has seq ≤ target. */
  target: number;
  resolve: (result: FlushResult) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Delivery {
  /** Counters; `queued` is filled in by snapshot(). */
  readonly stats: DeliveryStats = {
    queued: 0,
    delivered: 0,
    droppedAsBots: 0,
    rejected: 0,
    refused: 0,
    droppedQueueFull: 0,
    beaconed: 0,
    undelivered: 0,
    retries: 0,
    exposuresDeduplicated: 0,
  };
  private readonly queue: EventQueue;
  private seq = 0;
  /** Events with seq ≤ this are due now (flush, interval elapsed, or after a failed attempt). */
  private dueUpTo = 0;
  private inFlight: AbortController | undefined;
  private failures = 0;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private intervalTimer: ReturnType<typeof setTimeout> | undefined;
  private pumpScheduled = false;
  private waiters: Waiter[] = [];
  private stopped = false;

  constructor(private readonly options: DeliveryOptions) {
    this.queue = new EventQueue(options.maxQueueSize);
  }

  /** The counters as they are now. */
  snapshot(): DeliveryStats {
    return { ...this.stats, queued: this.queue.length };
  }

  /** Queues one event; false (and reported) when it cannot be sent at all. */
  add(event: WireEvent): boolean {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (cause) {
      this.options.report(
        new LiftstreamError('invalid_event', 'the event cannot be serialised as JSON', [event], { cause }),
      );
      return false;
    }
    const bytes = utf8Length(json);
    if (bytes + BATCH_ENVELOPE_BYTES > this.options.maxBatchBytes) {
      this.options.report(
        new LiftstreamError(
          'invalid_event',
          `the event is ${bytes} bytes as JSON; a batch may hold at most ${this.options.maxBatchBytes}`,
          [event],
        ),
      );
      return false;
    }
    const dropped = this.queue.push({ event, json, bytes, seq: ++this.seq, sending: false });
    if (dropped !== undefined) {
      this.stats.droppedQueueFull++;
      this.options.report(
        new LiftstreamError(
          'queue_full',
          `the queue holds ${this.options.maxQueueSize} undelivered events (is the endpoint reachable?); dropped the oldest`,
          [dropped.event],
        ),
      );
      this.settleWaiters();
    }
    if (this.queue.length >= this.options.flushAt) this.schedulePump();
    else this.armInterval();
    return true;
  }

  /**
   * Sends everything queued now (respecting a backoff under way) and resolves once each of those
   * events was answered for, or after `timeoutMs` with how many are still pending (they stay queued).
   */
  flush(timeoutMs: number): Promise<FlushResult> {
    const target = this.seq;
    if (this.queue.oldestSeq() > target) return Promise.resolve({ pending: 0 });
    this.dueUpTo = Math.max(this.dueUpTo, target);
    return new Promise((resolve) => {
      const waiter: Waiter = { target, resolve, timer: undefined };
      // A plain (ref'd) timer: an awaited flush may keep a Node process alive this long, no longer.
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve({ pending: this.queue.countUpTo(target) });
      }, timeoutMs);
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Hands every queued event the browser will take to sendBeacon (the page is going away). */
  beaconAll(): void {
    const beacon = this.options.beacon;
    if (beacon === undefined || this.stopped || this.queue.length === 0) return;
    // Events of a request under way go too: if that request also arrives, the message_ids dedupe.
    const sent = sendByBeacon(beacon.send, beacon.url, beacon.key, this.queue.all(), beacon.maxBytes);
    this.stats.beaconed += this.queue.remove(sent);
    this.settleWaiters();
    // What the browser would not take (its keepalive quota is spent) may still go by a keepalive fetch.
    this.dueUpTo = this.seq;
    this.pump();
  }

  /**
   * Flushes for at most `timeoutMs`, then stops for good: a request under way is aborted and what is
   * left is reported as `undelivered`.
   */
  async close(timeoutMs: number): Promise<FlushResult> {
    const result = timeoutMs > 0 ? await this.flush(timeoutMs) : { pending: 0 };
    this.stopped = true;
    clearTimeout(this.backoffTimer);
    clearTimeout(this.intervalTimer);
    this.inFlight?.abort();
    const left = this.queue.drain();
    if (left.length > 0) {
      this.stats.undelivered += left.length;
      this.options.report(
        new LiftstreamError(
          'undelivered',
          `closed with ${left.length} event(s) not delivered (the endpoint did not answer in time)`,
          left.map((q) => q.event),
        ),
      );
    }
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve({ pending: left.filter((q) => q.seq <= w.target).length });
    }
    this.waiters = [];
    return { pending: Math.max(result.pending, left.length) };
  }

  /** A send on the next turn of the event loop, so that track() returns at once. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    backgroundTimer(() => {
      this.pumpScheduled = false;
      this.pump();
    }, 0);
  }

  private armInterval(): void {
    if (this.intervalTimer !== undefined || this.stopped) return;
    this.intervalTimer = backgroundTimer(() => {
      this.intervalTimer = undefined;
      this.dueUpTo = Math.max(this.dueUpTo, this.seq);
      this.pump();
    }, this.options.flushIntervalMs);
  }

  /** Starts the next request if one is due and none is under way or backing off. */
  private pump(): void {
    if (this.stopped || this.inFlight !== undefined || this.backoffTimer !== undefined) return;
    if (this.queue.length === 0) return;
    if (this.queue.length < this.options.flushAt && this.queue.oldestSeq() > this.dueUpTo) {
      this.armInterval();
      return;
    }
    const batch = this.queue.peekBatch(this.options.maxBatchEvents, this.options.maxBatchBytes);
    for (const q of batch) q.sending = true;
    const controller = new AbortController();
    this.inFlight = controller;
    const body = `{"batch":[${batch.map((q) => q.json).join(',')}]}`;
    void this.options.transport(body, controller.signal).then((outcome) => {
      this.inFlight = undefined;
      for (const q of batch) q.sending = false;
      if (!this.stopped) this.settle(batch, outcome);
      this.pump();
    });
  }

  private settle(batch: QueuedEvent[], outcome: SendOutcome): void {
    const verdict = judgeAttempt(outcome);
    if (verdict === 'retry') {
      this.failures++;
      this.stats.retries++;
      // The batch is due again however it was triggered.
      this.dueUpTo = Math.max(this.dueUpTo, (batch[batch.length - 1] as QueuedEvent).seq);
      const delay = retryDelayMs(this.failures, outcome, this.options.retry, this.options.random, Date.now());
      this.backoffTimer = backgroundTimer(() => {
        this.backoffTimer = undefined;
        this.pump();
      }, delay);
      return;
    }
    this.failures = 0;
    // Fewer than the batch when some went by beacon meanwhile (counted there).
    const settled = this.queue.remove(batch);
    const events = batch.map((q) => q.event);
    if (verdict === 'refused') {
      this.stats.refused += settled;
      const status = outcome.kind === 'response' ? outcome.status : 0;
      this.options.report(
        new LiftstreamError(
          'refused',
          `the gateway refused the batch with ${status}${outcome.message ? `: ${outcome.message}` : ''}`,
          events,
          { status },
        ),
      );
    } else {
      const rejected = outcome.result?.rejected ?? [];
      const bots = outcome.result?.dropped ?? 0;
      this.stats.rejected += rejected.length;
      this.stats.droppedAsBots += bots;
      this.stats.delivered += Math.max(0, settled - rejected.length - bots);
      for (const rejection of rejected) {
        const event = events[rejection.index];
        if (event === undefined) continue;
        this.options.report(
          new LiftstreamError('rejected', `${rejection.code}: ${rejection.message}`, [event], { rejection }),
        );
      }
    }
    this.settleWaiters();
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const oldest = this.queue.oldestSeq();
    this.waiters = this.waiters.filter((w) => {
      if (oldest <= w.target) return true;
      clearTimeout(w.timer);
      w.resolve({ pending: 0 });
      return false;
    });
  }
}
