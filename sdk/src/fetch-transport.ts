/**
 * One POST /v1/batch over fetch: the key in `Authorization`, the body gzipped when the runtime can
 * and it is worth it, a timeout, and the answer reduced to what the retry policy and the client need.
 * Never throws: a failure to connect, a reset or a timeout is a `network` outcome.
 */
import type { IngestResult } from './event-types.ts';
import { gzip } from './gzip.ts';
import type { AttemptOutcome } from './retry-policy.ts';

/** The part of the fetch API the SDK uses (a custom one can be passed to createClient, e.g. in tests). */
export type FetchLike = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: string | Uint8Array;
    signal: AbortSignal;
    keepalive?: boolean;
  },
) => Promise<FetchResponse>;

/** The part of a fetch Response the SDK reads. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/** The outcome of one attempt, with the 200 answer or the refusal's text. */
export type SendOutcome = AttemptOutcome & { result?: IngestResult; message?: string };

export interface FetchTransportOptions {
  url: string;
  key: string;
  fetch: FetchLike;
  /** Gzip bodies of at least `gzipMinBytes` bytes (CompressionStream must exist). */
  gzip: boolean;
  gzipMinBytes: number;
  requestTimeoutMs: number;
  /**
   * Mark requests up to this many bytes `keepalive`, so that a request under way when a page unloads
   * still completes (browsers cap keepalive bodies at 64 KiB in all); 0 never.
   */
  keepaliveMaxBytes: number;
}

/** Sends one batch body; `signal` aborts it (close() running out of time). */
export type Transport = (body: string, signal?: AbortSignal) => Promise<SendOutcome>;

/** Longest refusal text kept for onError. */
const MAX_MESSAGE = 500;

export function createFetchTransport(options: FetchTransportOptions): Transport {
  return async (body, signal) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.key}`,
      'content-type': 'application/json',
    };
    let payload: string | Uint8Array = body;
    if (options.gzip && body.length >= options.gzipMinBytes) {
      try {
        payload = await gzip(body);
        headers['content-encoding'] = 'gzip';
      } catch {
        // Compression is an optimisation: send the body as it is.
      }
    }
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal?.addEventListener('abort', abort);
    const timer = setTimeout(abort, options.requestTimeoutMs);
    try {
      const size = typeof payload === 'string' ? body.length * 3 : payload.byteLength;
      const response = await options.fetch(options.url, {
        method: 'POST',
        headers,
        body: payload,
        signal: controller.signal,
        ...(size <= options.keepaliveMaxBytes ? { keepalive: true } : {}),
      });
      const outcome: SendOutcome = {
        kind: 'response',
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
      };
      try {
        if (response.status === 200) outcome.result = (await response.json()) as IngestResult;
        else outcome.message = (await response.text()).slice(0, MAX_MESSAGE);
      } catch {
        // The status decides; a body cut off after it does not change what the gateway did.
      }
      return outcome;
    } catch (error) {
      return { kind: 'network', error };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  };
}
