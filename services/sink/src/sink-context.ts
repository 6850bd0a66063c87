/**
 * The state one sink instance's parts share (clickhouse-sink.ts wires them): where each partition stands,
 * the consumer, the current assignment, counters for status(), and the paths by which any part stops the
 * sink for good.
 */
import type { Admin, Consumer } from 'kafkajs';
import { hasInfraCode } from '../../../shared/errors.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import { DEFAULT_INSERT_SHARE, type FlushPolicy } from './flush-decision.ts';
import { OffsetWatermarks } from './offset-watermarks.ts';
import type { StoredTable } from './offset-watermarks.ts';
import { createSinkMetrics } from './sink-metrics.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import { SINK_TABLES } from './sink-rows.ts';
import type { SinkTable } from './sink-rows.ts';
import { openTotalsStore } from './sink-totals.ts';
import type { BackoffState, SinkConfig, SinkDeps, SinkStatus } from './sink-types.ts';
import type { UnitTotalsStorage } from './variation-deltas.ts';

export interface Assignment {
  epoch: number;
  partitions: Record<SinkTable, number[]>;
  prepared: boolean;
}

export interface FetchedRecord {
  offset: number;
  value: Buffer | null;
  /** The record's Kafka timestamp (the processor's produce time), unix ms. */
  timestamp: number;
}

export class Stopped extends Error {}

export class SinkContext {
  readonly config: SinkConfig;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  readonly topics: Record<SinkTable, string>;
  readonly watermarks = new OffsetWatermarks();
  readonly highWatermarks = new Map<string, number>();
  /** Offset of the last record (data or transaction marker) fully handled, per `topic:partition`. */
  readonly consumed = new Map<string, number>();
  state: SinkStatus['state'] = 'starting';
  stopping = false;
  consumer: Consumer | null = null;
  admin: Admin | null = null;
  assignment: Assignment = { epoch: 0, partitions: perTable(() => []), prepared: false };
  backoff: BackoffState | null = null;
  lastError: SinkStatus['lastError'] = null;
  readonly rowsInserted: Record<StoredTable, number> = { ...perTable(() => 0), variation_metrics: 0 };
  readonly totals: UnitTotalsStorage;
  readonly stateDirectory: LmdbDirectory | null = null;
  readonly skipped = { alreadyStored: 0, invalid: 0 };
  readonly flushPolicy: FlushPolicy;

  constructor(readonly deps: SinkDeps) {
    this.config = deps.config;
    this.flushPolicy = {
      mode: deps.config.flushMode ?? 'interval',
      intervalMs: deps.config.flushIntervalMs,
      insertShare: deps.config.insertShare ?? DEFAULT_INSERT_SHARE,
      insertAtOnceRows: deps.config.batchRows,
    };
    this.logger = deps.logger.child({ component: 'clickhouse-sink' });
    this.metrics = createSinkMetrics(deps.metrics);
    const names = topicNames(deps.config.topicPrefix);
    this.topics = perTable((table) => names[table]);
    const store = openTotalsStore(deps.config.state ?? { store: 'memory' }, this.logger);
    this.stateDirectory = store.directory;
    this.totals = store.totals;
  }

  /**
   * The local cache of the per-unit totals could not be read or written (disk full, read-only). Nothing
   * is lost (ClickHouse holds what they are computed from, and nothing is committed past what it
   * stored), but the sink cannot go on from this cache: it stops, and a restart reloads it.
   */
  failOnStateStore(err: unknown): void {
    if (!hasInfraCode(err, 'STATE_STORAGE')) throw err;
    if (this.state === 'failed') return;
    this.noteError(err);
    this.stopFatally(
      message(err),
      { err: message(err) },
      'the sink state store failed. The sink stops; a restart after fixing the disk reloads the totals from ClickHouse.',
    );
  }

  /** Stops consuming at once, says why in one fatal line, and lets the host process stop (exit 1). */
  stopFatally(reason: string, context: Record<string, unknown>, explanation: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.stopping = true;
    this.logger.fatal(context, explanation);
    this.deps.onFatal?.(reason);
  }

  noteError(err: unknown): void {
    const at = new Date();
    this.lastError = { message: message(err), at: at.toISOString() };
    this.metrics.lastErrorTime.set(at.getTime() / 1000);
  }

  tableOf(topic: string): SinkTable | null {
    return SINK_TABLES.find((table) => this.topics[table] === topic) ?? null;
  }
}

/** One value per sink table. */
export function perTable<V>(value: (table: SinkTable) => V): Record<SinkTable, V> {
  return Object.fromEntries(SINK_TABLES.map((table) => [table, value(table)])) as Record<SinkTable, V>;
}

export function lagOf(highWatermark: number, consumed: number): number {
  return Math.max(0, highWatermark - consumed - 1);
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
