/**
 * Storing decoded rows in ClickHouse: each insert retried with capped exponential backoff until it works or
 * the sink stops (the batch kept in memory, nothing resolved or committed, the consumer heartbeating
 * meanwhile), then the watermark advanced and the listeners told. Attributed rows are preceded by the
 * per-variation changes they make and followed by the per-unit totals.
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
import type { InsertInfo } from './sink-types.ts';
import { planChunk, type ChunkPlan } from './variation-deltas.ts';
import type { VariationDeltaRow } from './variation-deltas.ts';

export class RowInserter {
  constructor(private readonly ctx: SinkContext) {}

  /** Inserts one topic's rows; returns whether they are in ClickHouse. */
  async store(
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
    this.ctx.watermarks.set(table, partition, last);
    this.reportCommitted(table, rows);
    await this.ctx.deps.hooks?.afterInsert?.(info);
    return true;
  }

  /**
   * Attributed rows: first the per-variation changes they make (only for records past the stored changes),
   * then the rows, then the in-memory totals. In that order a crash leaves the changes at or ahead of the
   * rows, and the restart replays the gap for the rows and totals alone (see restoreTotals).
   */
  async storeAttributed(
    topic: string,
    partition: number,
    rows: readonly AttributedRow[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const ctx = this.ctx;
    const storedChanges = ctx.watermarks.get('variation_metrics', partition) ?? -1;
    let plan: ChunkPlan;
    try {
      plan = planChunk(ctx.totals.lookup(partition), rows, storedChanges);
    } catch (err) {
      ctx.failOnStateStore(err);
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
      ctx.watermarks.set('variation_metrics', partition, last);
      await ctx.deps.hooks?.afterInsert?.(info);
    }
    if (!(await this.store('attributed', topic, partition, rows, heartbeat, running))) return false;
    try {
      ctx.totals.commit(partition, plan);
    } catch (err) {
      // The rows are in ClickHouse, the cache of their totals is behind: stop; a restart reloads it.
      ctx.failOnStateStore(err);
      return false;
    }
    return true;
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
    info: InsertInfo,
    rows: readonly (SinkRow | VariationDeltaRow)[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const ctx = this.ctx;
    const { table, partition, firstOffset, lastOffset } = info;
    // Same token on every attempt: an attempt that failed on our side but landed is dropped by ClickHouse.
    const token = insertDedupToken(info.topic, partition, firstOffset, lastOffset);
    // The reset is one more statement in chDB's queue per insert; a session of the sink's own needs none.
    const resetSession = ctx.config.embeddedClickHouse && ctx.deps.ownClickHouseSession !== true;
    for (let attempt = 1; ; attempt++) {
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
          this.failOnLocalDisk(diskFailure, info);
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
    this.ctx.stopFatally(
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
}
