/**
 * What `onError` receives. The SDK never throws from `exposure()`, `track()` or `alias()`: every
 * event that will not reach the gateway (or that the gateway refused) is reported here once, with the
 * events concerned.
 */
import type { EventRejection, WireEvent } from './event-types.ts';

/**
 * Every code `onError` can report; all are final (the SDK has given up on those events):
 * - `rejected`: the gateway refused this one event (a 200 answer's `rejected`); `rejection` says why;
 * - `refused`: the gateway refused the whole request with a status that is not retried (400, 401,
 *   403, 413, 500, ...); `status` says which;
 * - `queue_full`: the queue was full (endpoint unreachable for long) and the oldest event was dropped;
 * - `undelivered`: `close()` (or the exit flush) ran out of time with these events still queued;
 * - `invalid_event`: the event cannot be serialised as JSON, or is larger than a batch may be;
 * - `closed`: the event was created after `close()`.
 */
export const SDK_ERROR_CODES = [
  'rejected',
  'refused',
  'queue_full',
  'undelivered',
  'invalid_event',
  'closed',
] as const;

export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];

/** One problem reported to `onError`. */
export class LiftstreamError extends Error {
  override readonly name = 'LiftstreamError';
  readonly code: SdkErrorCode;
  /** The events concerned (as sent on the wire, with their message_id). */
  readonly events: readonly WireEvent[];
  /** HTTP status of the refusal, for `refused`. */
  readonly status: number | undefined;
  /** The gateway's verdict on the event, for `rejected`. */
  readonly rejection: EventRejection | undefined;

  constructor(
    code: SdkErrorCode,
    message: string,
    events: readonly WireEvent[],
    extra: { status?: number; rejection?: EventRejection; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.events = events;
    this.status = extra.status;
    this.rejection = extra.rejection;
  }
}

/** The callback type of the `onError` option. */
export type ErrorHandler = (error: LiftstreamError) => void;
