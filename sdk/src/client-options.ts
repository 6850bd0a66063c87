/**
 * createClient's options, their defaults, and the one check of them at creation (a bad option is a
 * programming error: it throws there, naming the option, and never later from track()).
 */
import { DEFAULT_BEACON_MAX_BYTES } from './beacon-transport.ts';
import type { ErrorHandler } from './errors.ts';
import type { EventContext } from './event-types.ts';
import type { FetchLike } from './fetch-transport.ts';
import { canGzip } from './gzip.ts';
import { DEFAULT_RETRY } from './retry-policy.ts';
import type { RetryOptions } from './retry-policy.ts';
import { isBrowserPage, pageUserAgent } from './runtime-hooks.ts';

export interface ClientOptions {
  /** The gateway's base URL, e.g. `https://ingest.example.com`; events go to `<endpoint>/v1/batch`. */
  endpoint: string;
  /** A client key (`lsc_…`) in web pages; a write key (`lsw_…`) on servers. */
  key: string;
  /** Events queued that trigger a send. Default 20. */
  flushAt?: number;
  /** Longest wait (ms) of a queued event before a send. Default 5000. */
  flushIntervalMs?: number;
  /** Most events per request (the gateway's MAX_BATCH_EVENTS defaults to 1000). Default 500. */
  maxBatchEvents?: number;
  /** Most bytes of uncompressed JSON per request (the gateway's MAX_BODY_BYTES defaults to 1 MiB). Default 512000. */
  maxBatchBytes?: number;
  /**
   * Most events kept undelivered (an outage, or a burst faster than requests drain it); the oldest is
   * dropped (and reported) beyond. Default 10000 (about 5 MB at 500 bytes per queued event).
   */
  maxQueueSize?: number;
  /** Exposure keys remembered for deduplication. Default 10000. */
  maxExposureKeys?: number;
  /** Gzip request bodies where the runtime has CompressionStream. Default true. */
  gzip?: boolean;
  /** Smallest body (bytes) worth compressing. Default 1024. */
  gzipMinBytes?: number;
  /** Time (ms) one request may take before it counts as a network error and is retried. Default 10000. */
  requestTimeoutMs?: number;
  /** Backoff (ms): `baseDelayMs` 1000, `maxDelayMs` 30000, `maxRetryAfterMs` 120000. */
  retry?: Partial<RetryOptions>;
  /** Browsers: send what is queued by navigator.sendBeacon when the page is hidden or unloaded. Default true. */
  beacon?: boolean;
  /** Node: flush when the event loop runs empty, for at most `exitTimeoutMs`. Default true. */
  flushOnExit?: boolean;
  /** Node: longest exit flush (ms). Default 5000. */
  exitTimeoutMs?: number;
  /** Default timeout (ms) of flush() and close(). Default 10000. */
  flushTimeoutMs?: number;
  /** Context added to every exposure and track event (an event's own context wins per key). */
  context?: EventContext;
  /** Browsers: add `context.user_agent` (the gateway drops known bots by it). Default true. */
  userAgent?: boolean;
  /** Stamp `timestamp` with the client's clock when an event has none. Default true. */
  stampTimestamps?: boolean;
  /** Called once for each event or batch the SDK gives up on. Default: console.warn in browsers, nothing in Node. */
  onError?: ErrorHandler;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: FetchLike;
}

/** The options with every default applied. */
export interface ResolvedOptions {
  url: string;
  key: string;
  flushAt: number;
  flushIntervalMs: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  maxQueueSize: number;
  maxExposureKeys: number;
  gzip: boolean;
  gzipMinBytes: number;
  requestTimeoutMs: number;
  retry: RetryOptions;
  beacon: boolean;
  beaconMaxBytes: number;
  flushOnExit: boolean;
  exitTimeoutMs: number;
  flushTimeoutMs: number;
  context: EventContext;
  stampTimestamps: boolean;
  onError: ErrorHandler | undefined;
  fetch: FetchLike;
}

/** Applies defaults and checks every option; throws a TypeError naming the first bad one. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createClient needs an options object');
  const { endpoint, key } = options;
  if (typeof endpoint !== 'string' || !/^https?:\/\/[^/]/i.test(endpoint)) {
    throw new TypeError(`endpoint must be an http(s) URL, got ${String(endpoint)}`);
  }
  if (typeof key !== 'string' || key.trim() === '') throw new TypeError('key must be a non-empty API key');
  const fetchFn = options.fetch ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
  if (typeof fetchFn !== 'function') throw new TypeError('no fetch in this runtime: pass options.fetch');
  const whole = (name: keyof ClientOptions, fallback: number, min: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new TypeError(`${name} must be a whole number ≥ ${min}, got ${String(value)}`);
    }
    return value;
  };
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  for (const [name, value] of Object.entries(retry)) {
    if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`retry.${name} must be a number ≥ 0`);
  }
  const context: EventContext = {};
  const agent = options.userAgent === false ? undefined : pageUserAgent();
  if (agent !== undefined) context['user_agent'] = agent;
  Object.assign(context, options.context);
  return {
    url: `${endpoint.replace(/\/+$/, '')}/v1/batch`,
    key,
    flushAt: whole('flushAt', 20, 1),
    flushIntervalMs: whole('flushIntervalMs', 5_000, 0),
    maxBatchEvents: whole('maxBatchEvents', 500, 1),
    maxBatchBytes: whole('maxBatchBytes', 512_000, 1_024),
    maxQueueSize: whole('maxQueueSize', 10_000, 1),
    maxExposureKeys: whole('maxExposureKeys', 10_000, 0),
    gzip: options.gzip !== false && canGzip(),
    gzipMinBytes: whole('gzipMinBytes', 1_024, 0),
    requestTimeoutMs: whole('requestTimeoutMs', 10_000, 1),
    retry,
    beacon: options.beacon !== false,
    beaconMaxBytes: DEFAULT_BEACON_MAX_BYTES,
    flushOnExit: options.flushOnExit !== false,
    exitTimeoutMs: whole('exitTimeoutMs', 5_000, 0),
    flushTimeoutMs: whole('flushTimeoutMs', 10_000, 0),
    context,
    stampTimestamps: options.stampTimestamps !== false,
    onError:
      options.onError ?? (isBrowserPage() ? (e) => console.warn('[liftstream]', e.message, e) : undefined),
    fetch: fetchFn,
  };
}
