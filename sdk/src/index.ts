/**
 * @liftstream/sdk: send exposures, track events and aliases to a liftstream gateway from browsers
 * and Node. See README.md.
 */
export { createClient } from './client.ts';
export type { ClientInternals, LiftstreamClient } from './client.ts';
export type { ClientOptions } from './client-options.ts';
export type { DeliveryStats, FlushResult } from './delivery.ts';
export { LiftstreamError, SDK_ERROR_CODES } from './errors.ts';
export type { ErrorHandler, SdkErrorCode } from './errors.ts';
export type {
  AliasInput,
  EventContext,
  EventProperties,
  EventRejection,
  ExposureInput,
  IngestResult,
  Timestamp,
  TrackInput,
  WireEvent,
} from './event-types.ts';
export type { FetchLike, FetchResponse, SendOutcome, Transport } from './fetch-transport.ts';
export type { RetryOptions } from './retry-policy.ts';
