/**
 * The sink's public API: what the stats process (its host) and other services may use. Other services
 * import the sink only through this file (eslint.config.js enforces it); its internals may change freely.
 */
export { startSink } from './clickhouse-sink.ts';
export type {
  BackoffState,
  CommittedChange,
  InsertInfo,
  PartitionStatus,
  SinkConfig,
  SinkDeps,
  SinkHandle,
  SinkStatus,
} from './sink-types.ts';
export { backfillVariationMetricsIfMissing } from './sink-clickhouse.ts';
export { formatDateTime64 } from './sink-rows.ts';
export { DEFAULT_INSERT_SHARE, type FlushMode } from './flush-decision.ts';
export { backoffDelayMs, type BackoffPolicy } from '../../../shared/retry/capped-backoff.ts';
export { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
