/** The sink's public types: its configuration, dependencies, status and what it tells its host. */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import type { BackoffPolicy } from '../../../shared/retry/capped-backoff.ts';
import type { FlushMode } from './flush-decision.ts';
import type { StoredTable } from './offset-watermarks.ts';
import type { SinkTable } from './sink-rows.ts';

export interface SinkConfig {
  /** Topic prefix (TOPIC_PREFIX): the sink reads `<prefix>` + each of SINK_TABLES. */
  topicPrefix: string;
  /** Consumer group of the sink (its own, so it never shares offsets with other readers). */
  groupId: string;
  /** Most rows per INSERT; a larger fetched batch is split. Keep far below max_insert_block_size (~1M). */
  batchRows: number;
  /**
   * When fetched records are inserted (flush-decision.ts), in rounds of every partition handled at once:
   * `adaptive` at once, the next fetch held by what the round cost (at most `flushIntervalMs` apart);
   * `interval` (before issue 19) every fetch, which the broker holds up to `flushIntervalMs` for
   * `fetchMinBytes`. Absent: `interval`.
   */
  flushMode?: FlushMode;
  /**
   * The flush interval, ms. `adaptive`: the longest time between the starts of two insert rounds (reached
   * under heavy load). `interval`: how long the broker may hold a fetch to gather `fetchMinBytes` (kafkajs
   * maxWaitTimeInMs). Under heavy traffic batches fill up sooner and reach `batchRows`.
   */
  flushIntervalMs: number;
  /**
   * `adaptive`: the share of its time the sink may spend inserting, in (0, 1]: after a round that took T ms
   * the next fetch waits T × (1 / share − 1), at most until `flushIntervalMs` after the round began.
   * Absent: DEFAULT_INSERT_SHARE (flush-decision.ts).
   */
  insertShare?: number;
  /**
   * `interval`: bytes a fetch waits for (up to flushIntervalMs) before returning, so inserts are not tiny.
   * Not used by `adaptive`, whose rounds go in at once when they hold `batchRows` rows.
   */
  fetchMinBytes: number;
  /** Group session timeout, ms: how long a silent member keeps its partitions. */
  sessionTimeoutMs: number;
  /** Backoff of retried inserts and of start-up attempts. */
  retry: BackoffPolicy;
  /** Embedded chDB: its settings are session-wide, so the dedup token is reset after each insert. */
  embeddedClickHouse: boolean;
  /**
   * Batches handled at once (kafkajs partitionsConsumedConcurrently): a fetch's batches beyond it wait, and
   * go in a later insert round. At least the partitions of the three topics an instance owns.
   */
  concurrency: number;
  /**
   * Where the per-unit totals live (SINK_STATE_STORE, SINK_STATE_DIR): on local disk, so the heap does
   * not grow with the units of every running experiment, or in the heap (also when absent).
   */
  state?: { store: 'disk'; dir: string } | { store: 'memory' };
}

/** What an insert hook learns; `hooks` exist for tests that simulate a crash between insert and commit. */
export interface InsertInfo {
  table: StoredTable;
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  rows: number;
  /**
   * Which insert statement of this sink (1, 2, …): an insert round stores several partitions in one
   * statement, and calls the hook once per partition it holds.
   */
  statement: number;
}

export interface SinkDeps {
  config: SinkConfig;
  kafka: Kafka;
  registry: AvroSchemaRegistry;
  clickhouse: ClickHouseClient;
  /**
   * Embedded chDB: `clickhouse` is a session of the sink's own (its own connection to the data directory,
   * used by nothing else), so the dedup token each insert sets as a session-wide `SET` cannot reach another
   * writer's insert and is not reset afterwards (each insert sets its own). Absent or false: the session
   * is shared and the token is reset after each insert.
   */
  ownClickHouseSession?: boolean;
  logger: Logger;
  /** The hosting process's Prometheus registry; the sink adds its metrics to it. */
  metrics: Registry;
  /**
   * Test hooks. `afterInsert` runs after each successful insert, once per partition it holds (for the
   * attributed topic: the variation_metrics changes first, then the rows), before the offsets are resolved
   * and committed.
   */
  hooks?: { afterInsert?(info: InsertInfo): Promise<void> | void };
  /**
   * Called after each insert of `exposures`, `attributed` or `covariates` rows is in ClickHouse (before its
   * offsets are resolved), with the distinct (project, experiment) pairs its rows touch: how a reader of the
   * tables (the stats service's alerts) learns what changed without polling them. Called synchronously, so
   * it must only take note and return; an exception is logged and ignored, never failing or delaying the
   * insert.
   */
  onCommitted?(changes: readonly CommittedChange[]): void;
  /**
   * Called once when embedded ClickHouse's disk refuses writes (full, read-only, permissions): the sink
   * has stopped consuming and the host should stop cleanly; retrying would only hide it.
   */
  onFatal?(reason: string): void;
}

/** An experiment whose stored rows an insert changed (SinkDeps.onCommitted). */
export interface CommittedChange {
  table: SinkTable;
  project: string;
  experiment: string;
  /**
   * Freshness inputs: the newest time (unix ms) among the insert's rows of this experiment that are counted
   * (analysed units' first exposures, attributed events' timestamps; covariate rows never are), asserted
   * (+1) and retracted (−1) respectively; null when there is none. A listener can then keep "the newest
   * counted event" without reading the table again (services/stats/src/freshness/).
   */
  newestAsserted: number | null;
  newestRetracted: number | null;
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  /** Highest offset stored in ClickHouse (-1: none), null until known. */
  storedOffset: number | null;
  /** Partition end as of the last fetch, null before the first one. */
  highWatermark: number | null;
  /**
   * Offsets between the last record handled and the partition end: 0 when every committed record is in
   * ClickHouse. Until the first batch after an assignment it counts from the stored offset, so a trailing
   * transaction marker may show as 1.
   */
  lag: number | null;
}

export interface BackoffState {
  table: StoredTable;
  attempt: number;
  delayMs: number;
  /** ISO time of the first failure of the current streak. */
  since: string;
  error: string;
}

export interface SinkStatus {
  state: 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  /** Joined the group and knows where each assigned partition stands in ClickHouse. */
  ready: boolean;
  /** Assignments received so far (1 after the first join; each rebalance adds one). */
  assignments: number;
  groupId: string;
  topics: Record<SinkTable, string>;
  partitions: PartitionStatus[];
  /** A failing insert being retried, or null. */
  backoff: BackoffState | null;
  lastError: { message: string; at: string } | null;
  rowsInserted: Record<StoredTable, number>;
  recordsSkipped: { alreadyStored: number; invalid: number };
  /** Units with a live attributed event held in memory for the per-variation changes. */
  unitsInState: number;
}

export interface SinkHandle {
  /** Graceful: the batch in progress finishes (or its retry is abandoned, uncommitted), then the group is left. */
  stop(): Promise<void>;
  status(): SinkStatus;
}
