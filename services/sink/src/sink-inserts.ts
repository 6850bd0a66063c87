/**
 * Storing a round's decoded rows in ClickHouse (insert-rounds.ts): one insert per table holding a contiguous
 * run of each partition's records, retried with capped exponential backoff until it works or the sink stops
 * (the batches kept in memory, nothing resolved or committed, the consumer heartbeating meanwhile), then the
 * watermarks advanced and the listeners told. Attributed rows are preceded by the per-variation changes
 * they make and followed by the per-unit totals.
 */
import { backoffDelayMs } from '../../../shared/retry/capped-backoff.ts';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
import { localStorageFailure } from '../../../shared/storage/local-storage-errors.ts';
import { committedChanges } from './committed-changes.ts';
import type { SinkContext } from './sink-context.ts';
import { message } from './sink-context.ts';
import { insertRows } from './sink-clickhouse.ts';
import { insertDedupToken } from './sink-rows.ts';
import type { AttributedRow, SinkRow, SinkTable } from './sink-rows.ts';
import type { StoredTable } from './offset-watermarks.ts';
import { planChunk, type ChunkPlan } from './variation-deltas.ts';
import type { VariationDeltaRow } from './variation-deltas.ts';

/** One partition's part of an insert: a contiguous run of its records' rows (first..last: record offsets). */
export interface InsertRun<T> {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  rows: readonly T[];
}

/** One batch of a round: a partition's decoded rows, and how its eachBatch call heartbeats and runs. */
export interface BatchRows {
  table: SinkTable;
  topic: string;
  partition: number;
  rows: readonly SinkRow[];
  heartbeat: () => Promise<void>;
  running: () => boolean;
}

/** The order a round stores its tables in: a unit's exposure before its events (results rely on it). */
const ROUND_ORDER: readonly SinkTable[] = ['exposures', 'covariates', 'attributed'];

export class RowInserter {
  /** Insert statements issued so far (InsertInfo.statement). */
  private statements = 0;

  constructor(private readonly ctx: SinkContext) {}

  /**
   * Stores a round's batches, one insert per table (more when a table's rows exceed SINK_BATCH_ROWS):
   * exposures, covariates, then attributed (preceded by their per-variation changes, followed by the
   * per-unit totals). Returns, per batch, whether its rows are in ClickHouse.
   */
  async storeRound(batches: readonly BatchRows[]): Promise<boolean[]> {
    const stored = batches.map(() => false);
    for (const table of ROUND_ORDER) {
      const members = batches.flatMap((b, i) => (b.table === table && b.running() ? [i] : []));
      if (members.length === 0) continue;
      const own = members.map((i) => batches[i] as BatchRows);
      // Any member's heartbeat keeps the group alive (one consumer); the round stops when its members do.
      const heartbeat = () => (own[0] as BatchRows).heartbeat();
      const running = () => own.every((b) => b.running());
      const ok =
        table === 'attributed'
          ? await this.storeAttributed(own, heartbeat, running)
          : await this.storeRows(table, own.map(runOf), heartbeat, running);
      if (ok) for (const i of members) stored[i] = true;
    }
    return stored;
  }

  /**
   * Rows of one table, run after run, in inserts of at most SINK_BATCH_ROWS rows (a run may be split: its
   * pieces go in one after the other, so what is stored of it is always a prefix). After each insert every
   * piece's watermark advances and the listeners are told.
   */
  private async storeRows(
    table: SinkTable,
    runs: readonly InsertRun<SinkRow>[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    for (const pieces of packRows(runs, this.ctx.config.batchRows)) {
      if (!(await this.insertWithRetry(table, pieces, heartbeat, running))) return false;
      for (const piece of pieces) this.ctx.watermarks.set(table, piece.partition, piece.lastOffset);
      this.reportCommitted(
        table,
        pieces.flatMap((p) => p.rows),
      );
      await this.afterInsert(table, pieces);
    }
    return true;
  }

  /**
   * Attributed rows: first the per-variation changes they make (only for records past the stored changes),
   * then the rows, then the in-memory totals. In that order a crash leaves the changes at or ahead of the
   * rows, and the restart replays the gap for the rows and totals alone (see restoreTotals). A batch's
   * changes are never split between inserts: their stored offset says all of them are in.
   */
  private async storeAttributed(
    batches: readonly BatchRows[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const ctx = this.ctx;
    const plans: ChunkPlan[] = [];
    const changeRuns: InsertRun<VariationDeltaRow>[] = [];
    try {
      for (const batch of batches) {
        const rows = batch.rows as readonly AttributedRow[];
        const storedChanges = ctx.watermarks.get('variation_metrics', batch.partition) ?? -1;
        const plan = planChunk(ctx.totals.lookup(batch.partition), rows, storedChanges);
        plans.push(plan);
        if (plan.deltas.length === 0) continue;
        const changed = rows.filter((r) => r.src_offset > storedChanges);
        changeRuns.push({
          topic: batch.topic,
          partition: batch.partition,
          firstOffset: (changed[0] as AttributedRow).src_offset,
          lastOffset: (changed[changed.length - 1] as AttributedRow).src_offset,
          rows: plan.deltas,
        });
      }
    } catch (err) {
      ctx.failOnStateStore(err);
      return false;
    }
    for (const runs of packWholeRuns(changeRuns, ctx.config.batchRows)) {
      if (!(await this.insertWithRetry('variation_metrics', runs, heartbeat, running))) return false;
      for (const run of runs) ctx.watermarks.set('variation_metrics', run.partition, run.lastOffset);
      await this.afterInsert('variation_metrics', runs);
    }
    if (!(await this.storeRows('attributed', batches.map(runOf), heartbeat, running))) return false;
    try {
      batches.forEach((batch, i) => ctx.totals.commit(batch.partition, plans[i] as ChunkPlan));
    } catch (err) {
      // The rows are in ClickHouse, the cache of their totals is behind: stop; a restart reloads it.
      ctx.failOnStateStore(err);
      return false;
    }
    return true;
  }

  /** The test hook, once per partition run of the insert. */
  private async afterInsert(table: StoredTable, runs: readonly InsertRun<unknown>[]): Promise<void> {
    const hook = this.ctx.deps.hooks?.afterInsert;
    if (hook === undefined) return;
    for (const run of runs) {
      await hook({
        table,
        topic: run.topic,
        partition: run.partition,
        firstOffset: run.firstOffset,
        lastOffset: run.lastOffset,
        rows: run.rows.length,
        statement: this.statements,
      });
    }
  }

  /** Tells `onCommitted` which experiments the stored rows touch; its failure is not the sink's. */
  private reportCommitted(table: SinkTable, rows: readonly SinkRow[]): void {
    const listener = this.ctx.deps.onCommitted;
    if (listener === undefined) return;
    try {
      listener(committedChanges(table, rows));
    } catch (err) {
      this.ctx.logger.warn({ err: message(err) }, 'onCommitted listener failed; ignored');
    }
  }

  /** Inserts until it works or the sink stops; returns whether the rows are in ClickHouse. */
  private async insertWithRetry(
    table: StoredTable,
    runs: readonly InsertRun<SinkRow | VariationDeltaRow>[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const ctx = this.ctx;
    const rows = runs.flatMap((run) => run.rows);
    // Same token on every attempt: an attempt that failed on our side but landed is dropped by ClickHouse.
    const token = runs
      .map((r) => insertDedupToken(r.topic, r.partition, r.firstOffset, r.lastOffset))
      .join(',');
    // The reset is one more statement in chDB's queue per insert; a session of the sink's own needs none.
    const resetSession = ctx.config.embeddedClickHouse && ctx.deps.ownClickHouseSession !== true;
    this.statements += 1;
    for (let attempt = 1; ; attempt++) {
      if (!running()) return false;
      const started = performance.now();
      try {
        await insertRows(ctx.deps.clickhouse, table, rows, token, resetSession);
        ctx.metrics.insertSeconds.observe({ table }, (performance.now() - started) / 1000);
        ctx.metrics.rowsInserted.inc({ table }, rows.length);
        ctx.rowsInserted[table] += rows.length;
        if (ctx.backoff !== null) {
          ctx.logger.info(
            { table, attempts: attempt, since: ctx.backoff.since },
            'ClickHouse insert recovered',
          );
          ctx.backoff = null;
        }
        ctx.metrics.backoffSeconds.set({ table }, 0);
        return true;
      } catch (err) {
        ctx.metrics.insertFailures.inc({ table });
        ctx.noteError(err);
        const diskFailure = ctx.config.embeddedClickHouse ? localStorageFailure(err) : null;
        if (diskFailure !== null) {
          this.failOnLocalDisk(diskFailure, table, token);
          return false;
        }
        const delay = backoffDelayMs(attempt, ctx.config.retry);
        ctx.backoff = {
          table,
          attempt,
          delayMs: delay,
          since: ctx.backoff?.since ?? new Date().toISOString(),
          error: message(err),
        };
        ctx.metrics.backoffSeconds.set({ table }, delay / 1000);
        const log = attempt === 1 || attempt % 10 === 0 ? 'error' : 'warn';
        ctx.logger[log](
          { table, records: token, attempt, retryInMs: delay, err: message(err) },
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
  private failOnLocalDisk(reason: string, table: StoredTable, records: string): void {
    this.ctx.stopFatally(
      reason,
      { table, records },
      `local ClickHouse storage refused a write: ${reason}. The sink stops; nothing past the rows already ` +
        'stored is committed, so a restart after fixing the disk resumes exactly where it stopped.',
    );
  }
}

function runOf(batch: BatchRows): InsertRun<SinkRow> {
  return {
    topic: batch.topic,
    partition: batch.partition,
    firstOffset: (batch.rows[0] as SinkRow).src_offset,
    lastOffset: (batch.rows[batch.rows.length - 1] as SinkRow).src_offset,
    rows: batch.rows,
  };
}

/**
 * Runs of rows in inserts of at most `limit` rows, in order; a run that does not fit is split (each piece
 * with its own offsets), so every insert but the last of a table is full.
 */
export function packRows<T extends { src_offset: number }>(
  runs: readonly InsertRun<T>[],
  limit: number,
): InsertRun<T>[][] {
  if (!(Number.isInteger(limit) && limit > 0))
    throw new RangeError(`insert size must be a positive integer, got ${limit}`);
  const inserts: InsertRun<T>[][] = [];
  let current: InsertRun<T>[] = [];
  let size = 0;
  for (const run of runs) {
    for (let from = 0; from < run.rows.length;) {
      const take = Math.min(limit - size, run.rows.length - from);
      const rows = run.rows.slice(from, from + take);
      current.push({
        topic: run.topic,
        partition: run.partition,
        firstOffset: (rows[0] as T).src_offset,
        lastOffset: (rows[rows.length - 1] as T).src_offset,
        rows,
      });
      size += take;
      from += take;
      if (size === limit) {
        inserts.push(current);
        current = [];
        size = 0;
      }
    }
  }
  if (current.length > 0) inserts.push(current);
  return inserts;
}

/** Whole runs in inserts of at most `limit` rows where they fit; a larger run goes alone. */
export function packWholeRuns<T>(runs: readonly InsertRun<T>[], limit: number): InsertRun<T>[][] {
  const inserts: InsertRun<T>[][] = [];
  let current: InsertRun<T>[] = [];
  let size = 0;
  for (const run of runs) {
    if (current.length > 0 && size + run.rows.length > limit) {
      inserts.push(current);
      current = [];
      size = 0;
    }
    current.push(run);
    size += run.rows.length;
  }
  if (current.length > 0) inserts.push(current);
  return inserts;
}
