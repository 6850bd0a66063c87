import type { Database } from 'lmdb';
import type { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import type { ChunkPlan, UnitTotals, UnitTotalsStorage } from './variation-deltas.ts';

/** Entries written per LMDB transaction while loading a partition. */
const LOAD_BATCH = 10_000;

/**
 * The per-unit totals on local disk (SINK_STATE_STORE=disk): one LMDB database per owned attributed
 * partition, in the stats process's LMDB directory (SINK_STATE_DIR). Like the in-memory store it is a
 * cache of ClickHouse, reloaded from there on every assignment; memory then holds the OS page cache
 * of it instead of ~60 B per unit in the heap for the whole experiment.
 *
 * Keys are the 128-bit unitKey (8 UTF-16 code units) as 16 bytes, values (events, count, value) as three
 * float64. A write that fails (disk full) throws STATE_STORAGE from commit(), after ClickHouse took the
 * rows: the cache is then behind, and the sink stops; a restart reloads it from ClickHouse.
 */
export class DiskUnitTotalsStore implements UnitTotalsStorage {
  private readonly byPartition = new Map<number, Database<Buffer, Buffer>>();

  constructor(private readonly directory: LmdbDirectory) {}

  load(partition: number, entries: Iterable<[string, UnitTotals]>): void {
    const db = this.emptyDatabase(partition);
    let batch: [string, UnitTotals][] = [];
    const flush = (): void => {
      this.write(db, `loading totals-${partition}`, batch);
      batch = [];
    };
    for (const entry of entries) {
      batch.push(entry);
      if (batch.length >= LOAD_BATCH) flush();
    }
    flush();
  }

  has(partition: number): boolean {
    return this.byPartition.has(partition);
  }

  lookup(partition: number): (key: string) => UnitTotals | undefined {
    const db = this.byPartition.get(partition);
    return (key) => {
      if (db === undefined) return undefined;
      try {
        const stored = db.get(encodeKey(key));
        return stored === undefined ? undefined : decodeTotals(stored);
      } catch (err) {
        throw this.directory.failure(`reading totals-${partition}`, err);
      }
    };
  }

  commit(partition: number, plan: ChunkPlan): void {
    const db = this.byPartition.get(partition) ?? this.emptyDatabase(partition);
    this.write(db, `writing totals-${partition}`, plan.updates);
  }

  size(): number {
    let n = 0;
    for (const db of this.byPartition.values()) n += (db.getStats() as { entryCount: number }).entryCount;
    return n;
  }

  clear(): void {
    for (const [partition, db] of this.byPartition) {
      try {
        db.dropSync();
      } catch (err) {
        throw this.directory.failure(`dropping totals-${partition}`, err);
      }
    }
    this.byPartition.clear();
  }

  private emptyDatabase(partition: number): Database<Buffer, Buffer> {
    const db = this.directory.emptyDatabase<Buffer, Buffer>(`totals-${partition}`, {
      encoding: 'binary',
      keyEncoding: 'binary',
    });
    this.byPartition.set(partition, db);
    return db;
  }

  private write(
    db: Database<Buffer, Buffer>,
    what: string,
    entries: Iterable<[string, UnitTotals | null]>,
  ): void {
    try {
      this.directory.writeBatch(db, encoded(entries));
    } catch (err) {
      throw this.directory.failure(what, err);
    }
  }
}

/** The 8 UTF-16 code units of a unitKey as 16 bytes: exact, where UTF-8 would mangle lone surrogates. */
function encodeKey(key: string): Buffer {
  const out = Buffer.allocUnsafe(key.length * 2);
  for (let i = 0; i < key.length; i++) out.writeUInt16BE(key.charCodeAt(i), i * 2);
  return out;
}

function* encoded(
  entries: Iterable<[string, UnitTotals | null]>,
): Iterable<readonly [Buffer, Buffer | null]> {
  for (const [key, totals] of entries) yield [encodeKey(key), totals === null ? null : encodeTotals(totals)];
}

function encodeTotals(totals: UnitTotals): Buffer {
  const out = Buffer.allocUnsafe(24);
  out.writeDoubleLE(totals.events, 0);
  out.writeDoubleLE(totals.count, 8);
  out.writeDoubleLE(totals.value, 16);
  return out;
}

function decodeTotals(stored: Buffer): UnitTotals {
  return { events: stored.readDoubleLE(0), count: stored.readDoubleLE(8), value: stored.readDoubleLE(16) };
}
