/**
 * Kafka → ClickHouse sink for the processor's public topics: `<prefix>exposures` → table `exposures`,
 * `<prefix>attributed` → table `attributed`, `<prefix>covariates` → table `covariates` (SINK_TABLES), Avro
 * through the schema registry, read_committed (the processor writes them in transactions, so aborted output
 * is never seen).
 *
 * Exactly-once, with ClickHouse as the offset store of record (README.md has the full argument):
 * - every row carries `src_partition` and `src_offset`, the Kafka record it came from;
 * - each INSERT holds a contiguous run of one partition's records and is one atomic part (the tables are
 *   not partitioned and a batch is far below max_insert_block_size), so it is entirely there or not at all;
 * - so the highest `src_offset` stored for (table, partition) says exactly which records are in. It is read
 *   from ClickHouse after every assignment (the `offsets` projection answers in milliseconds), the
 *   partition is seeked right after it, and it is then advanced in memory by this process's own inserts;
 *   records at or below it are skipped;
 * - Kafka offsets are committed after the insert but are only a hint: a crash between the insert and the
 *   commit re-reads records that the watermark then skips, and a committed offset ahead of ClickHouse
 *   (ClickHouse restored from an older backup) is overridden by the seek;
 * - `insert_deduplication_token` = `<topic>:<partition>:<first>-<last>` is a second guard: a retry after
 *   an ambiguous failure (a timeout whose insert did land) is dropped by ClickHouse itself.
 * Why not a deduplicating engine (ReplacingMergeTree on the record's identity): it removes duplicates only
 * when parts merge, so every query would need FINAL (slow) and the signed sums would be wrong in between.
 *
 * For `attributed` the sink also keeps each unit's totals in memory (restored from ClickHouse on every
 * assignment) and writes, before the rows, the change each chunk makes to every variation's sufficient
 * statistics into `variation_metrics` (variation-deltas.ts), with its own stored offsets: results then cost
 * O(variations). A crash between the two inserts is replayed for the rows and the totals only.
 *
 * ClickHouse down: the insert is retried with capped exponential backoff, the batch kept in memory,
 * nothing resolved or committed, the consumer heartbeating meanwhile so the group keeps its partitions;
 * `status()` and the metrics show the backoff and the growing lag.
 *
 * Limits: a sink instance that lost its partitions without noticing (frozen longer than the session
 * timeout, then resumed mid-insert) could insert a range the new owner also inserts; the token catches it
 * only when both chose the same boundaries. Records that cannot be decoded are skipped, logged and counted
 * (`invalid`), never retried forever; a registry that does not answer is retried.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import { localStorageFailure } from '../../../shared/storage/local-storage-errors.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import { hasInfraCode } from '../../../shared/errors.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { fetchSettings, flushDecision, tokensAt } from './flush-decision.ts';
import type { FlushMode, FlushPolicy, RoundBudget } from './flush-decision.ts';
import { chunks, OffsetWatermarks, recordsAfter, seekPlan } from './offset-watermarks.ts';
import type { StoredTable } from './offset-watermarks.ts';
import { backoffDelayMs, waitWithHeartbeat } from './retry-backoff.ts';
import type { BackoffPolicy } from './retry-backoff.ts';
import { insertRows, restoreUnitTotals, storedOffsets } from './sink-clickhouse.ts';
import { createSinkMetrics } from './sink-metrics.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import { insertDedupToken, parseDateTime64, ROW_READERS, SINK_TABLES } from './sink-rows.ts';
import type { AttributedRow, ExposureRow, RowRead, SinkRow, SinkTable } from './sink-rows.ts';
import { DiskUnitTotalsStore } from './disk-unit-totals.ts';
import { planChunk, UnitTotalsStore, type ChunkPlan, type UnitTotalsStorage } from './variation-deltas.ts';
import type { VariationDeltaRow } from './variation-deltas.ts';

export interface SinkConfig {
  /** Topic prefix (TOPIC_PREFIX): the sink reads `<prefix>` + each of SINK_TABLES. */
  topicPrefix: string;
  /** Consumer group of the sink (its own, so it never shares offsets with other readers). */
  groupId: string;
  /** Most rows per INSERT; a larger fetched batch is split. Keep far below max_insert_block_size (~1M). */
  batchRows: number;
  /**
   * When fetched records are inserted (flush-decision.ts): `adaptive` at once after a quiet spell and about
   * once per `flushIntervalMs` per partition under steady traffic; `interval` (before issue 19) every fetch,
   * which the broker holds up to `flushIntervalMs` for `fetchMinBytes`. Absent: `interval`.
   */
  flushMode?: FlushMode;
  /**
   * The flush interval, ms. `adaptive`: least time between two inserts of one partition under steady
   * traffic. `interval`: how long the broker may hold a fetch to gather `fetchMinBytes` (kafkajs
   * maxWaitTimeInMs). Under heavy traffic batches fill up sooner and reach `batchRows`.
   */
  flushIntervalMs: number;
  /**
   * `interval`: bytes a fetch waits for (up to flushIntervalMs) before returning, so inserts are not tiny.
   * `adaptive`: a partition's batch of at least this many bytes is inserted at once (a backlog).
   */
  fetchMinBytes: number;
  /** Group session timeout, ms: how long a silent member keeps its partitions. */
  sessionTimeoutMs: number;
  /** Backoff of retried inserts and of start-up attempts. */
  retry: BackoffPolicy;
  /** Embedded chDB: its settings are session-wide, so the dedup token is reset after each insert. */
  embeddedClickHouse: boolean;
  /** Partitions processed at once (kafkajs partitionsConsumedConcurrently). */
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
}

export interface SinkDeps {
  config: SinkConfig;
  kafka: Kafka;
  registry: AvroSchemaRegistry;
  clickhouse: ClickHouseClient;
  logger: Logger;
  /** The hosting process's Prometheus registry; the sink adds its metrics to it. */
  metrics: Registry;
  /**
   * Test hooks. `afterInsert` runs after each successful insert (for the attributed topic: the
   * variation_metrics changes first, then the rows), before the offsets are resolved and committed.
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

/** Starts the sink in the background (waiting for Kafka and the topics if needed) and returns at once. */
export function startSink(deps: SinkDeps): SinkHandle {
  const sink = new ClickHouseSink(deps);
  sink.start();
  return { stop: () => sink.stop(), status: () => sink.status() };
}

interface Assignment {
  epoch: number;
  partitions: Record<SinkTable, number[]>;
  prepared: boolean;
}

interface FetchedRecord {
  offset: number;
  value: Buffer | null;
  /** The record's Kafka timestamp (the processor's produce time), unix ms. */
  timestamp: number;
}

class Stopped extends Error {}

class ClickHouseSink {
  private readonly config: SinkConfig;
  private readonly logger: Logger;
  private readonly metrics: SinkMetrics;
  private readonly topics: Record<SinkTable, string>;
  private readonly watermarks = new OffsetWatermarks();
  private readonly highWatermarks = new Map<string, number>();
  /** Offset of the last record (data or transaction marker) fully handled, per `topic:partition`. */
  private readonly consumed = new Map<string, number>();
  private state: SinkStatus['state'] = 'starting';
  private stopping = false;
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private assignment: Assignment = { epoch: 0, partitions: perTable(() => []), prepared: false };
  private startup: Promise<void> = Promise.resolve();
  private backoff: BackoffState | null = null;
  private lastError: SinkStatus['lastError'] = null;
  private readonly rowsInserted: Record<StoredTable, number> = { ...perTable(() => 0), variation_metrics: 0 };
  private readonly totals: UnitTotalsStorage;
  private readonly stateDirectory: LmdbDirectory | null = null;
  private readonly skipped = { alreadyStored: 0, invalid: 0 };
  /** Schema ids the registry does not know (404): their records are invalid, not retried. */
  private readonly unknownSchemaIds = new Set<number>();
  private readonly knownSchemaIds = new Set<number>();
  private readonly flushPolicy: FlushPolicy;
  /** Per partition number, the current flush round of the co-partitioned topics (adaptive flush). */
  private readonly rounds = new Map<number, { startedAt: number; joined: Set<SinkTable> }>();
  /** Per partition number, the token bucket pacing its rounds (adaptive flush). */
  private readonly roundBudgets = new Map<number, RoundBudget>();
  /** Partitions paused until their deferred batch is due (adaptive flush), with the timer resuming them. */
  private readonly deferred = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();

  constructor(private readonly deps: SinkDeps) {
    this.config = deps.config;
    this.flushPolicy = {
      mode: deps.config.flushMode ?? 'interval',
      intervalMs: deps.config.flushIntervalMs,
      insertAtOnceBytes: deps.config.fetchMinBytes,
      insertAtOnceRows: deps.config.batchRows,
    };
    this.logger = deps.logger.child({ component: 'clickhouse-sink' });
    this.metrics = createSinkMetrics(deps.metrics);
    const names = topicNames(deps.config.topicPrefix);
    this.topics = perTable((table) => names[table]);
    const state = deps.config.state ?? { store: 'memory' };
    if (state.store === 'disk') {
      // Refuses an unusable SINK_STATE_DIR now, naming it and the cause.
      this.stateDirectory = LmdbDirectory.open(state.dir, {
        setting: 'SINK_STATE_DIR',
        what: 'sink state store',
        logger: this.logger,
      });
      this.totals = new DiskUnitTotalsStore(this.stateDirectory);
    } else {
      this.totals = new UnitTotalsStore();
    }
  }

  start(): void {
    this.startup = this.connectWithRetry();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const failed = this.state === 'failed';
    this.stopping = true;
    this.state = 'stopping';
    this.clearDeferred(false);
    await this.startup.catch(() => undefined);
    await this.consumer
      ?.disconnect()
      .catch((err: unknown) => this.logger.warn({ err }, 'consumer disconnect failed'));
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.admin = null;
    try {
      this.stateDirectory?.close();
    } catch (err) {
      this.logger.warn({ err: message(err) }, 'could not remove the state directory');
    }
    // A sink stopped by a failure says so in /readyz until the process is gone.
    this.state = failed ? 'failed' : 'stopped';
    this.logger.info('sink stopped');
  }

  status(): SinkStatus {
    const partitions: PartitionStatus[] = [];
    for (const table of SINK_TABLES) {
      for (const partition of this.assignment.partitions[table]) {
        const topic = this.topics[table];
        const stored = this.watermarks.get(table, partition);
        const high = this.highWatermarks.get(`${topic}:${partition}`);
        const consumed = this.consumed.get(`${topic}:${partition}`);
        partitions.push({
          topic,
          partition,
          storedOffset: stored ?? null,
          highWatermark: high ?? null,
          lag: consumed === undefined || high === undefined ? null : lagOf(high, consumed),
        });
      }
    }
    return {
      state: this.state,
      ready: this.state === 'running' && this.assignment.epoch > 0 && this.assignment.prepared,
      assignments: this.assignment.epoch,
      groupId: this.config.groupId,
      topics: { ...this.topics },
      partitions,
      backoff: this.backoff === null ? null : { ...this.backoff },
      lastError: this.lastError,
      rowsInserted: { ...this.rowsInserted },
      recordsSkipped: { ...this.skipped },
      unitsInState: this.totals.size(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Start-up and assignments
  // ---------------------------------------------------------------------------------------------

  /** Kafka down or topics missing at start: keep trying with backoff until it works or stop() is called. */
  private async connectWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.connect();
        this.state = 'running';
        this.logger.info({ groupId: this.config.groupId, topics: this.topics }, 'sink consuming');
        return;
      } catch (err) {
        if (err instanceof Stopped || this.stopping) return;
        this.noteError(err);
        await this.consumer?.disconnect().catch(() => undefined);
        await this.admin?.disconnect().catch(() => undefined);
        this.consumer = null;
        this.admin = null;
        const delay = backoffDelayMs(attempt, this.config.retry);
        this.logger.warn({ err: message(err), attempt, retryInMs: delay }, 'sink start failed; retrying');
        await waitWithHeartbeat(
          delay,
          async () => undefined,
          () => !this.stopping,
          250,
        );
      }
    }
  }

  private async connect(): Promise<void> {
    const { kafka } = this.deps;
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    await this.waitForTopics(admin);
    const consumer = kafka.consumer({
      groupId: this.config.groupId,
      // read_committed: the processor writes these topics in transactions.
      readUncommitted: false,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.config.sessionTimeoutMs / 10)),
      ...fetchSettings(this.flushPolicy, this.config.fetchMinBytes),
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.REBALANCING, () => {
      this.assignment.prepared = false;
    });
    // Batches holding only transaction markers or aborted records never reach eachBatch: kafkajs resolves them.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0) return;
      const key = `${payload.topic}:${payload.partition}`;
      this.highWatermarks.set(key, Number(payload.highWatermark));
      this.consumed.set(key, Math.max(this.consumed.get(key) ?? -1, Number(payload.lastOffset)));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.noteError(payload.error);
      if (payload.restart) {
        this.logger.warn({ err: message(payload.error) }, 'consumer crashed; kafkajs restarts it');
      } else if (!this.stopping) {
        this.state = 'failed';
        this.logger.error({ err: message(payload.error) }, 'consumer crashed and will not restart');
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: SINK_TABLES.map((table) => this.topics[table]), fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.concurrency,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** The processor creates the topics; the sink waits for them rather than guessing their settings. */
  private async waitForTopics(admin: Admin): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Stopped();
      const existing = new Set(await admin.listTopics());
      const missing = Object.values(this.topics).filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      if (attempt === 1 || attempt % 30 === 0) {
        this.logger.info({ missing }, 'waiting for the processor to create the topics');
      }
      await waitWithHeartbeat(
        1_000,
        async () => undefined,
        () => !this.stopping,
        250,
      );
    }
  }

  /**
   * A new assignment (kafkajs rebalances eagerly: it lists everything this member now owns). Forget every
   * watermark (another instance may have written a partition meanwhile), then read them from ClickHouse
   * and seek each partition right after its last stored record. Batches wait until this is done.
   */
  private onAssignment(memberAssignment: Record<string, number[]>): void {
    const epoch = this.assignment.epoch + 1;
    this.assignment = {
      epoch,
      partitions: perTable((table) =>
        [...(memberAssignment[this.topics[table]] ?? [])].sort((a, b) => a - b),
      ),
      prepared: false,
    };
    this.watermarks.clear();
    // A partition that came back may have been written by another instance meanwhile: its first batch goes
    // in at once, and nothing stays paused on the strength of the previous assignment.
    this.rounds.clear();
    this.roundBudgets.clear();
    this.clearDeferred(true);
    try {
      this.totals.clear();
    } catch (err) {
      this.failOnStateStore(err);
      return;
    }
    this.logger.info({ epoch, partitions: this.assignment.partitions }, 'partitions assigned');
    void this.prepare(this.assignment);
  }

  private async prepare(assignment: Assignment): Promise<void> {
    const current = () => !this.stopping && this.assignment.epoch === assignment.epoch;
    for (let attempt = 1; current(); attempt++) {
      try {
        for (const table of SINK_TABLES) {
          const partitions = assignment.partitions[table];
          if (partitions.length === 0) continue;
          const stored = await storedOffsets(this.deps.clickhouse, table, partitions);
          // The per-variation changes are written before the rows, so they are at or ahead of them.
          const changes =
            table === 'attributed'
              ? await storedOffsets(this.deps.clickhouse, 'variation_metrics', partitions)
              : null;
          const bounds = await (this.admin as Admin).fetchTopicOffsets(this.topics[table]);
          if (!current()) return;
          for (const partition of partitions) {
            // A newer assignment (or a stop) may have come while an earlier partition's totals loaded.
            if (!current()) return;
            const offset = stored.get(partition) ?? -1;
            const bound = bounds.find((b) => b.partition === partition);
            const low = Number(bound?.low ?? 0);
            const high = Number(bound?.high ?? 0);
            const key = `${this.topics[table]}:${partition}`;
            this.watermarks.set(table, partition, offset);
            this.highWatermarks.set(key, high);
            this.consumed.set(key, offset);
            this.metrics.consumerLag.set(
              { topic: this.topics[table], partition: String(partition) },
              lagOf(high, offset),
            );
            if (offset >= high && offset >= 0) {
              this.logger.error(
                { table, partition, stored: offset, high },
                'ClickHouse holds offsets beyond the end of the topic: was the topic recreated? Its table must be cleared',
              );
            }
            if (changes !== null) {
              const restored = await this.restoreTotals(
                partition,
                offset,
                changes.get(partition) ?? -1,
                current,
              );
              if (!restored) return;
            }
            const plan = seekPlan(offset, low);
            if (plan.lostToRetention > 0) {
              this.logger.error(
                { table, partition, stored: offset, low, lost: plan.lostToRetention },
                'records expired from Kafka before they were stored: the sink was down longer than the retention',
              );
            }
            this.consumer?.seek({ topic: this.topics[table], partition, offset: String(plan.offset) });
          }
        }
        if (!current()) return;
        this.assignment.prepared = true;
        this.logger.info(
          { epoch: assignment.epoch, stored: this.watermarks.entries() },
          'resuming after stored offsets',
        );
        return;
      } catch (err) {
        // An outdated preparation's failure (a stop closed the state store under it) is nobody's concern.
        if (!current()) return;
        this.noteError(err);
        if (hasInfraCode(err, 'STATE_STORAGE')) {
          this.failOnStateStore(err);
          return;
        }
        const delay = backoffDelayMs(attempt, this.config.retry);
        this.logger.warn(
          { err: message(err), attempt, retryInMs: delay },
          'reading stored offsets failed; retrying',
        );
        await waitWithHeartbeat(delay, async () => undefined, current, 250);
      }
    }
  }

  /**
   * The per-unit totals of an attributed partition, from its stored rows (up to `storedRows`), and how far
   * `variation_metrics` got. Records between the two (a crash between the two inserts) are replayed for
   * the rows and the totals only, their changes being stored already.
   */
  private async restoreTotals(
    partition: number,
    storedRows: number,
    storedChanges: number,
    current: () => boolean,
  ): Promise<boolean> {
    const started = performance.now();
    let changes = storedChanges;
    if (changes < storedRows) {
      this.logger.error(
        { partition, storedRows, storedChanges },
        'variation_metrics is behind attributed (created on a database that already had rows?): changes of records ' +
          'at or below the stored rows are assumed present; rebuild it with the sink stopped if results look wrong',
      );
      changes = storedRows;
    }
    const entries = await restoreUnitTotals(this.deps.clickhouse, partition);
    // Loaded by an outdated preparation, these would overwrite what the current one's batches wrote.
    if (!current()) return false;
    this.watermarks.set('variation_metrics', partition, changes);
    this.totals.load(partition, entries);
    this.logger.info(
      { partition, units: entries.length, ms: Math.round(performance.now() - started) },
      'per-unit totals restored',
    );
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Batches
  // ---------------------------------------------------------------------------------------------

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const table = this.tableOf(batch.topic);
    const running = () => isRunning() && !this.stopping;
    if (table === null || !(await this.waitPrepared(heartbeat, running)) || isStale()) return;
    const watermark = this.watermarks.get(table, batch.partition);
    if (watermark === undefined) return; // not ours in this assignment: a stale batch
    this.highWatermarks.set(`${batch.topic}:${batch.partition}`, Number(batch.highWatermark));

    const records = batch.messages.map(toFetched);
    const { fresh, skipped } = recordsAfter(records, watermark);
    const key = `${batch.topic}:${batch.partition}`;
    if (fresh.length > 0) {
      const now = Date.now();
      const round = this.rounds.get(batch.partition);
      const tokens = tokensAt(this.roundBudgets.get(batch.partition), now, this.flushPolicy.intervalMs);
      const decision = flushDecision(this.flushPolicy, {
        rows: fresh.length,
        bytes: fresh.reduce((n, r) => n + (r.value?.length ?? 0), 0),
        round: round === undefined ? null : { msAgo: now - round.startedAt, joined: round.joined.has(table) },
        tokens,
      });
      this.metrics.flushDecisions.inc({ decision: decision.flush ? decision.reason : 'deferred' });
      if (!decision.flush) {
        // Nothing resolved: the records are fetched again, with what arrives meanwhile, when this is due.
        this.defer(batch.topic, batch.partition, decision.waitMs);
        return;
      }
      if (decision.reason === 'round') {
        this.rounds.set(batch.partition, { startedAt: now, joined: new Set([table]) });
        this.roundBudgets.set(batch.partition, { tokens: tokens - 1, at: now });
        // The other topics' batches of this partition, if they wait, join the round now.
        for (const other of SINK_TABLES) {
          if (other !== table) this.resumeDeferred(this.topics[other], batch.partition);
        }
      } else if (decision.reason === 'companion') round?.joined.add(table);
    }
    if (skipped > 0) {
      this.skipped.alreadyStored += skipped;
      this.metrics.recordsSkipped.inc({ table, reason: 'already_stored' }, skipped);
      this.logger.info(
        { table, partition: batch.partition, skipped, watermark },
        'skipped records already stored',
      );
    }
    for (const chunk of chunks(fresh, this.config.batchRows)) {
      if (!running() || isStale()) return;
      const rows = await this.decode(table, batch.partition, chunk, heartbeat, running);
      if (rows === null) return;
      if (rows.length > 0) {
        const stored =
          table === 'attributed'
            ? await this.storeAttributed(
                batch.topic,
                batch.partition,
                rows as AttributedRow[],
                heartbeat,
                running,
              )
            : await this.store(table, batch.topic, batch.partition, rows, heartbeat, running);
        if (!stored) return;
        this.observeAges(table, chunk);
      }
      resolveOffset(String((chunk[chunk.length - 1] as FetchedRecord).offset));
      await heartbeat();
    }
    if (fresh.length === 0 && !batch.isEmpty()) resolveOffset(batch.lastOffset());
    // The whole batch is handled: its last offset (a trailing transaction marker included) is consumed.
    this.consumed.set(key, Math.max(this.consumed.get(key) ?? -1, Number(batch.lastOffset())));
    this.metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      lagOf(Number(batch.highWatermark), this.consumed.get(key) as number),
    );
    if (running()) await commitOffsetsIfNecessary();
  }

  /**
   * Adaptive flush: pause the partition (so it is not fetched again and again meanwhile) and resume it when
   * its batch is due; the next fetch then brings the deferred records and what arrived since. Only the
   * resume runs outside eachBatch: inserts stay inside it, under the group's ownership of the partition.
   */
  private defer(topic: string, partition: number, waitMs: number): void {
    const key = `${topic}:${partition}`;
    const consumer = this.consumer;
    if (consumer === null || this.deferred.has(key)) return;
    consumer.pause([{ topic, partitions: [partition] }]);
    const timer = setTimeout(() => {
      this.deferred.delete(key);
      if (!this.stopping) this.consumer?.resume([{ topic, partitions: [partition] }]);
    }, waitMs);
    this.deferred.set(key, { topic, partition, timer });
  }

  /** Ends one partition's deferral early: it joins the next fetch. */
  private resumeDeferred(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    const deferred = this.deferred.get(key);
    if (deferred === undefined) return;
    clearTimeout(deferred.timer);
    this.deferred.delete(key);
    this.consumer?.resume([{ topic, partitions: [partition] }]);
  }

  /** Cancels every deferral; `resume`: and resumes the partitions (an assignment), else leaves them (a stop). */
  private clearDeferred(resume: boolean): void {
    for (const { topic, partition, timer } of this.deferred.values()) {
      clearTimeout(timer);
      if (resume) this.consumer?.resume([{ topic, partitions: [partition] }]);
    }
    this.deferred.clear();
  }

  private async waitPrepared(heartbeat: () => Promise<void>, running: () => boolean): Promise<boolean> {
    while (!this.assignment.prepared) {
      if (!(await waitWithHeartbeat(100, heartbeat, running, 100))) return false;
    }
    return running();
  }

  /**
   * Decodes a chunk into rows. Writer schemas are fetched first (the registry client caches them): a
   * registry that does not answer is retried with backoff, an id it does not know makes its records invalid.
   * Returns null when the sink stopped meanwhile.
   */
  private async decode(
    table: SinkTable,
    partition: number,
    chunk: readonly FetchedRecord[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<SinkRow[] | null> {
    const ids = new Set<number>();
    for (const r of chunk) {
      const id = schemaIdOf(r.value);
      if (id !== null && !this.knownSchemaIds.has(id) && !this.unknownSchemaIds.has(id)) ids.add(id);
    }
    for (const id of ids) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.deps.registry.forId(id);
          this.knownSchemaIds.add(id);
          break;
        } catch (err) {
          if (isNotFound(err)) {
            this.unknownSchemaIds.add(id);
            break;
          }
          this.noteError(err);
          const delay = backoffDelayMs(attempt, this.config.retry);
          this.logger.warn(
            { err: message(err), schemaId: id, retryInMs: delay },
            'schema registry failed; retrying',
          );
          if (!(await waitWithHeartbeat(delay, heartbeat, running))) return null;
        }
      }
    }
    const rows: SinkRow[] = [];
    const toRow = ROW_READERS[table];
    for (const r of chunk) {
      const read = await this.read(r, partition, toRow);
      if (read.ok) rows.push(read.row);
      else this.invalid(table, partition, r.offset, read.reason);
    }
    return rows;
  }

  private async read(
    record: FetchedRecord,
    partition: number,
    toRow: (value: unknown, at: { partition: number; offset: number }) => RowRead<SinkRow>,
  ): Promise<RowRead<SinkRow>> {
    const id = schemaIdOf(record.value);
    if (record.value === null || id === null) return { ok: false, reason: 'not Confluent-framed Avro' };
    if (this.unknownSchemaIds.has(id))
      return { ok: false, reason: `schema id ${id} unknown to the registry` };
    let value: unknown;
    try {
      value = await this.deps.registry.decode(record.value);
    } catch (err) {
      return { ok: false, reason: `Avro decode failed: ${message(err)}` };
    }
    return toRow(value, { partition, offset: record.offset });
  }

  private invalid(table: SinkTable, partition: number, offset: number, reason: string): void {
    this.skipped.invalid += 1;
    this.metrics.recordsSkipped.inc({ table, reason: 'invalid' });
    this.noteError(new Error(`invalid record ${table}/${partition}@${offset}: ${reason}`));
    this.logger.warn({ table, partition, offset, reason }, 'invalid record skipped');
  }

  /** Inserts one topic's rows; returns whether they are in ClickHouse. */
  private async store(
    table: SinkTable,
    topic: string,
    partition: number,
    rows: readonly SinkRow[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const first = (rows[0] as SinkRow).src_offset;
    const last = (rows[rows.length - 1] as SinkRow).src_offset;
    const info = { table, topic, partition, firstOffset: first, lastOffset: last, rows: rows.length };
    if (!(await this.insertWithRetry(info, rows, heartbeat, running))) return false;
    this.watermarks.set(table, partition, last);
    this.reportCommitted(table, rows);
    await this.deps.hooks?.afterInsert?.(info);
    return true;
  }

  /** Tells `onCommitted` which experiments the stored rows touch; its failure is not the sink's. */
  private reportCommitted(table: SinkTable, rows: readonly SinkRow[]): void {
    const listener = this.deps.onCommitted;
    if (listener === undefined) return;
    try {
      listener(committedChanges(table, rows));
    } catch (err) {
      this.logger.warn({ err: message(err) }, 'onCommitted listener failed; ignored');
    }
  }

  /**
   * Attributed rows: first the per-variation changes they make (only for records past the stored changes),
   * then the rows, then the in-memory totals. In that order a crash leaves the changes at or ahead of the
   * rows, and the restart replays the gap for the rows and totals alone (see restoreTotals).
   */
  private async storeAttributed(
    topic: string,
    partition: number,
    rows: readonly AttributedRow[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const storedChanges = this.watermarks.get('variation_metrics', partition) ?? -1;
    let plan: ChunkPlan;
    try {
      plan = planChunk(this.totals.lookup(partition), rows, storedChanges);
    } catch (err) {
      this.failOnStateStore(err);
      return false;
    }
    if (plan.deltas.length > 0) {
      const changed = rows.filter((r) => r.src_offset > storedChanges);
      const first = (changed[0] as AttributedRow).src_offset;
      const last = (changed[changed.length - 1] as AttributedRow).src_offset;
      const info = {
        table: 'variation_metrics' as const,
        topic,
        partition,
        firstOffset: first,
        lastOffset: last,
        rows: plan.deltas.length,
      };
      if (!(await this.insertWithRetry(info, plan.deltas, heartbeat, running))) return false;
      this.watermarks.set('variation_metrics', partition, last);
      await this.deps.hooks?.afterInsert?.(info);
    }
    if (!(await this.store('attributed', topic, partition, rows, heartbeat, running))) return false;
    try {
      this.totals.commit(partition, plan);
    } catch (err) {
      // The rows are in ClickHouse, the cache of their totals is behind: stop; a restart reloads it.
      this.failOnStateStore(err);
      return false;
    }
    return true;
  }

  /** Inserts until it works or the sink stops; returns whether the rows are in ClickHouse. */
  private async insertWithRetry(
    info: InsertInfo,
    rows: readonly (SinkRow | VariationDeltaRow)[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const { table, partition, firstOffset, lastOffset } = info;
    // Same token on every attempt: an attempt that failed on our side but landed is dropped by ClickHouse.
    const token = insertDedupToken(info.topic, partition, firstOffset, lastOffset);
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        await insertRows(this.deps.clickhouse, table, rows, token, this.config.embeddedClickHouse);
        this.metrics.insertSeconds.observe({ table }, (performance.now() - started) / 1000);
        this.metrics.rowsInserted.inc({ table }, rows.length);
        this.rowsInserted[table] += rows.length;
        if (this.backoff !== null) {
          this.logger.info(
            { table, attempts: attempt, since: this.backoff.since },
            'ClickHouse insert recovered',
          );
          this.backoff = null;
        }
        this.metrics.backoffSeconds.set({ table }, 0);
        return true;
      } catch (err) {
        this.metrics.insertFailures.inc({ table });
        this.noteError(err);
        const diskFailure = this.config.embeddedClickHouse ? localStorageFailure(err) : null;
        if (diskFailure !== null) {
          this.failOnLocalDisk(diskFailure, info);
          return false;
        }
        const delay = backoffDelayMs(attempt, this.config.retry);
        this.backoff = {
          table,
          attempt,
          delayMs: delay,
          since: this.backoff?.since ?? new Date().toISOString(),
          error: message(err),
        };
        this.metrics.backoffSeconds.set({ table }, delay / 1000);
        const log = attempt === 1 || attempt % 10 === 0 ? 'error' : 'warn';
        this.logger[log](
          { table, partition, firstOffset, lastOffset, attempt, retryInMs: delay, err: message(err) },
          'ClickHouse insert failed; retrying (nothing committed)',
        );
        if (!(await waitWithHeartbeat(delay, heartbeat, running))) return false;
      }
    }
  }

  /**
   * Embedded ClickHouse's own disk refused the write. Stop consuming at once (the failed insert left no
   * part, and nothing is committed past what ClickHouse stored), say why, and let the host stop.
   */
  private failOnLocalDisk(reason: string, info: InsertInfo): void {
    this.stopFatally(
      reason,
      {
        table: info.table,
        partition: info.partition,
        firstOffset: info.firstOffset,
        lastOffset: info.lastOffset,
      },
      `local ClickHouse storage refused a write: ${reason}. The sink stops; nothing past the rows already ` +
        'stored is committed, so a restart after fixing the disk resumes exactly where it stopped.',
    );
  }

  /**
   * The local cache of the per-unit totals could not be read or written (disk full, read-only). Nothing
   * is lost (ClickHouse holds what they are computed from, and nothing is committed past what it
   * stored), but the sink cannot go on from this cache: it stops, and a restart reloads it.
   */
  private failOnStateStore(err: unknown): void {
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
  private stopFatally(reason: string, context: Record<string, unknown>, explanation: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.stopping = true;
    this.logger.fatal(context, explanation);
    this.deps.onFatal?.(reason);
  }

  /** Freshness of a stored chunk: each record's age now that its row is in ClickHouse. */
  private observeAges(table: SinkTable, chunk: readonly FetchedRecord[]): void {
    const histogram = this.metrics.recordAgeSeconds.labels({ table });
    const now = Date.now();
    // A negative age (the processor's clock ahead of this host's) counts as 0.
    for (const r of chunk) histogram.observe(Math.max(0, now - r.timestamp) / 1000);
  }

  private tableOf(topic: string): SinkTable | null {
    return SINK_TABLES.find((table) => this.topics[table] === topic) ?? null;
  }

  private noteError(err: unknown): void {
    const at = new Date();
    this.lastError = { message: message(err), at: at.toISOString() };
    this.metrics.lastErrorTime.set(at.getTime() / 1000);
  }
}

/** The distinct (project, experiment) pairs of `rows`, in order of first appearance. */
export function committedChanges(table: SinkTable, rows: readonly SinkRow[]): CommittedChange[] {
  const seen = new Map<string, CommittedChange>();
  for (const row of rows) {
    const key = `${row.project}\u0000${row.experiment}`;
    let change = seen.get(key);
    if (change === undefined) {
      change = {
        table,
        project: row.project,
        experiment: row.experiment,
        newestAsserted: null,
        newestRetracted: null,
      };
      seen.set(key, change);
    }
    const at = countedTimeOf(table, row);
    if (at === null) continue;
    if (row.sign === 1) change.newestAsserted = Math.max(change.newestAsserted ?? at, at);
    else change.newestRetracted = Math.max(change.newestRetracted ?? at, at);
  }
  return [...seen.values()];
}

/** The time a counted row stands for (unix ms): null for rows that are never counted. */
function countedTimeOf(table: SinkTable, row: SinkRow): number | null {
  if (table === 'covariates') return null;
  if (table === 'exposures') {
    const exposure = row as ExposureRow;
    return exposure.multiple_exposure ? null : parseDateTime64(exposure.first_exposure_at);
  }
  return parseDateTime64((row as AttributedRow).timestamp);
}

/** One value per sink table. */
function perTable<V>(value: (table: SinkTable) => V): Record<SinkTable, V> {
  return Object.fromEntries(SINK_TABLES.map((table) => [table, value(table)])) as Record<SinkTable, V>;
}

function lagOf(highWatermark: number, consumed: number): number {
  return Math.max(0, highWatermark - consumed - 1);
}

function toFetched(message: KafkaMessage): FetchedRecord {
  return { offset: Number(message.offset), value: message.value, timestamp: Number(message.timestamp) };
}

function schemaIdOf(value: Buffer | null): number | null {
  if (value === null || value.length < 5 || value.readUInt8(0) !== 0) return null;
  return value.readUInt32BE(1);
}

/** A registry 404 (unknown schema id), wherever it sits in the cause chain. */
function isNotFound(error: unknown): boolean {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { status?: unknown }).status === 404) return true;
    if (!('cause' in e)) break;
  }
  return false;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
