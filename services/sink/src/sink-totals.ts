/**
 * The per-unit totals of the attributed partitions (variation-deltas.ts): where they live, and how they are
 * restored from ClickHouse on every assignment.
 */
import type { Logger } from '../../../shared/logging/logger.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import { DiskUnitTotalsStore } from './disk-unit-totals.ts';
import type { SinkContext } from './sink-context.ts';
import { restoreUnitTotals } from './sink-clickhouse.ts';
import type { SinkConfig } from './sink-types.ts';
import { UnitTotalsStore, type UnitTotalsStorage } from './variation-deltas.ts';

/** The totals store SINK_STATE_STORE asks for, with the directory to close on stop (disk only). */
export function openTotalsStore(
  state: NonNullable<SinkConfig['state']>,
  logger: Logger,
): { totals: UnitTotalsStorage; directory: LmdbDirectory | null } {
  if (state.store === 'disk') {
    // Refuses an unusable SINK_STATE_DIR now, naming it and the cause.
    const directory = LmdbDirectory.open(state.dir, {
      setting: 'SINK_STATE_DIR',
      what: 'sink state store',
      logger,
    });
    return { totals: new DiskUnitTotalsStore(directory), directory };
  }
  return { totals: new UnitTotalsStore(), directory: null };
}

/**
 * The per-unit totals of an attributed partition, from its stored rows (up to `storedRows`), and how far
 * `variation_metrics` got. Records between the two (a crash between the two inserts) are replayed for
 * the rows and the totals only, their changes being stored already.
 */
export async function restoreTotals(
  ctx: SinkContext,
  partition: number,
  storedRows: number,
  storedChanges: number,
  current: () => boolean,
): Promise<boolean> {
  const started = performance.now();
  let changes = storedChanges;
  if (changes < storedRows) {
    ctx.logger.error(
      { partition, storedRows, storedChanges },
      'variation_metrics is behind attributed (created on a database that already had rows?): changes of records ' +
        'at or below the stored rows are assumed present; rebuild it with the sink stopped if results look wrong',
    );
    changes = storedRows;
  }
  const entries = await restoreUnitTotals(ctx.deps.clickhouse, partition);
  // Loaded by an outdated preparation, these would overwrite what the current one's batches wrote.
  if (!current()) return false;
  ctx.watermarks.set('variation_metrics', partition, changes);
  ctx.totals.load(partition, entries);
  ctx.logger.info(
    { partition, units: entries.length, ms: Math.round(performance.now() - started) },
    'per-unit totals restored',
  );
  return true;
}
