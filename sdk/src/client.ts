/**
 * createClient: the producer API. exposure(), track() and alias() build the wire event (message_id,
 * timestamp, context) and queue it, and return at once; they never throw and never wait for the
 * network. Delivery, retries and the page/exit hooks are the Delivery's.
 */
import { createFetchTransport } from './fetch-transport.ts';
import type { Transport } from './fetch-transport.ts';
import { resolveOptions } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { Delivery } from './delivery.ts';
import type { DeliveryStats, FlushResult } from './delivery.ts';
import { LiftstreamError } from './errors.ts';
import type { AliasInput, EventContext, ExposureInput, TrackInput, WireEvent } from './event-types.ts';
import { ExposureDedup } from './exposure-dedup.ts';
import { newMessageId } from './message-id.ts';
import { beaconApi, isBrowserPage, onNodeExit, onPageHide } from './runtime-hooks.ts';

export interface LiftstreamClient {
  /** Records that a unit saw a variation; repeats (same unit, experiment, variation, decision) are skipped. */
  exposure(event: ExposureInput): void;
  /** Records something a unit did. */
  track(event: TrackInput): void;
  /** Records that an anonymous id is this user. */
  alias(event: AliasInput): void;
  /**
   * Sends everything queued now; resolves when each of those events was answered for, or after
   * `timeoutMs` (default flushTimeoutMs) with how many are still pending. Never rejects.
   */
  flush(options?: { timeoutMs?: number }): Promise<FlushResult>;
  /**
   * Flushes for at most `timeoutMs`, then stops: events still queued are reported as `undelivered`,
   * and events created afterwards as `closed`. Idempotent. Never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<FlushResult>;
  /** Counters since creation. */
  stats(): DeliveryStats;
}

/** Internals a test may replace. */
export interface ClientInternals {
  transport?: Transport;
  random?: () => number;
  now?: () => number;
}

/** A client for one endpoint and key. Throws a TypeError on bad options, and never after. */
export function createClient(options: ClientOptions, internals: ClientInternals = {}): LiftstreamClient {
  const o = resolveOptions(options);
  const now = internals.now ?? Date.now;
  const report = (error: LiftstreamError): void => {
    try {
      o.onError?.(error);
    } catch {
      // The application's handler failing must not break delivery.
    }
  };
  const sendBeacon = o.beacon ? beaconApi() : undefined;
  const delivery = new Delivery({
    flushAt: o.flushAt,
    flushIntervalMs: o.flushIntervalMs,
    maxBatchEvents: o.maxBatchEvents,
    maxBatchBytes: o.maxBatchBytes,
    maxQueueSize: o.maxQueueSize,
    retry: o.retry,
    transport:
      internals.transport ??
      createFetchTransport({
        url: o.url,
        key: o.key,
        fetch: o.fetch,
        gzip: o.gzip,
        gzipMinBytes: o.gzipMinBytes,
        requestTimeoutMs: o.requestTimeoutMs,
        // keepalive lets a request under way outlive its page; servers have no use for it.
        keepaliveMaxBytes: isBrowserPage() ? o.beaconMaxBytes : 0,
      }),
    beacon: sendBeacon && { send: sendBeacon, url: o.url, key: o.key, maxBytes: o.beaconMaxBytes },
    report,
    random: internals.random ?? Math.random,
  });
  const dedup = new ExposureDedup(o.maxExposureKeys);
  let closing: Promise<FlushResult> | undefined;

  const unwatchPage = sendBeacon ? onPageHide(() => delivery.beaconAll()) : () => undefined;
  let exitFlushing = false;
  const unwatchExit = o.flushOnExit
    ? onNodeExit(() => {
        if (exitFlushing || delivery.snapshot().queued === 0) return;
        exitFlushing = true;
        void delivery.flush(o.exitTimeoutMs).then((result) => {
          exitFlushing = false;
          // Out of time: report what is left rather than hold the process up again.
          if (result.pending > 0) void close({ timeoutMs: 0 });
        });
      })
    : () => undefined;

  const clientContext = hasNoKeys(o.context) ? undefined : o.context;

  /**
   * The wire event in one copy of the caller's object (its unknown fields too: the gateway warns about
   * them by name), then queued. `type` last, so the caller cannot override it.
   */
  const send = (
    type: WireEvent['type'],
    input: object & { context?: EventContext },
    withContext: boolean,
  ): void => {
    const event = { ...input, type } as WireEvent;
    event.message_id ??= newMessageId();
    if (event.timestamp === undefined && o.stampTimestamps) event.timestamp = now();
    if (withContext && clientContext !== undefined) {
      (event as { context?: EventContext }).context = { ...clientContext, ...input.context };
    }
    if (closing !== undefined) {
      report(new LiftstreamError('closed', 'the client is closed; the event was not sent', [event]));
      return;
    }
    delivery.add(event);
  };

  const close = (opts: { timeoutMs?: number } = {}): Promise<FlushResult> => {
    if (closing === undefined) {
      unwatchPage();
      unwatchExit();
      closing = delivery.close(opts.timeoutMs ?? o.flushTimeoutMs);
    }
    return closing;
  };

  /** Input that is not an object at all (plain JS callers) is reported, never thrown on. */
  const valid = (event: unknown): boolean => {
    if (typeof event === 'object' && event !== null) return true;
    report(new LiftstreamError('invalid_event', `an event must be an object, got ${String(event)}`, []));
    return false;
  };

  return {
    exposure(event) {
      if (!valid(event)) return;
      if (!dedup.firstTime(event)) {
        delivery.stats.exposuresDeduplicated++;
        return;
      }
      send('exposure', event, true);
    },
    track(event) {
      if (valid(event)) send('track', event, true);
    },
    alias(event) {
      if (valid(event)) send('alias', event, false);
    },
    flush(opts = {}) {
      return delivery.flush(opts.timeoutMs ?? o.flushTimeoutMs);
    },
    close,
    stats() {
      return delivery.snapshot();
    },
  };
}

function hasNoKeys(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
