/**
 * Incremental per-variation sufficient statistics, pure. The results of an experiment need, per variation,
 * Σ c_u, Σ x_u, Σ x_u², Σ k_u, Σ k_u² over its units; the squares and the conversion indicator are not
 * linear in the attributed rows, so they cannot be summed row by row. They are linear in the *changes of each
 * unit's totals*: when an attributed row moves a unit from (e, k, x) to (e', k', x'), the sums change by
 * [e'>0] − [e>0], x' − x, x'² − x², k' − k, k'² − k². The sink keeps each unit's totals for its partitions
 * and writes those changes to `variation_metrics`; a results query then sums a few rows per variation
 * instead of aggregating every unit.
 */
import type { AttributedRow } from './sink-rows.ts';

/** A unit's totals for one (project, experiment, event, variation): live events, Σ w, Σ w·value. */
export interface UnitTotals {
  events: number;
  count: number;
  value: number;
}

/** The change of one variation's sums, in `variation_metrics` column names. */
export interface VariationDeltaRow {
  project: string;
  experiment: string;
  event: string;
  variation: string;
  conversions: number;
  sum_value: number;
  sum_value_sq: number;
  sum_count: number;
  sum_count_sq: number;
  src_partition: number;
  /** The last attributed record this change accounts for. */
  src_offset: number;
}

/**
 * The key of a unit's totals: a 128-bit hash of (project, experiment, event, variation, unit), packed in 8
 * UTF-16 code units. Keys are held for every unit with a live event, so they must be small: the plain
 * identity costs ~260 B per unit in a Map, this ~60 B with the slots of UnitTotalsStore. Two units collide
 * with probability ~n²/2^129 (~10^-25 for 10 million units).
 */
export function unitKey(
  row: Pick<AttributedRow, 'project' | 'experiment' | 'event' | 'variation' | 'unit'>,
): string {
  const identity = `${row.project}\u0000${row.experiment}\u0000${row.event}\u0000${row.variation}\u0000${row.unit}`;
  const [a, b] = hash64(identity, 0x9e3779b9);
  const [c, d] = hash64(identity, 0x85ebca6b);
  return String.fromCharCode(
    a >>> 16,
    a & 0xffff,
    b >>> 16,
    b & 0xffff,
    c >>> 16,
    c & 0xffff,
    d >>> 16,
    d & 0xffff,
  );
}

/** Two 32-bit words of a seeded multiplicative string hash (cyrb53's mixing, both states kept). */
function hash64(text: string, seed: number): [number, number] {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * A unit's totals after one signed row. A unit left with no live event is exactly zero (not the float
 * dust of w − w summed in another order), which keeps c_u, k_u and x_u exact for fully retracted units.
 */
export function applyRow(
  before: UnitTotals | undefined,
  row: Pick<AttributedRow, 'sign' | 'weight' | 'value'>,
): UnitTotals {
  const events = (before?.events ?? 0) + row.sign;
  if (events === 0) return { events: 0, count: 0, value: 0 };
  return {
    events,
    count: (before?.count ?? 0) + row.sign * row.weight,
    value: (before?.value ?? 0) + row.sign * row.weight * (row.value ?? 0),
  };
}

/** What a chunk of rows does: the units' new totals (null = back to zero) and the per-variation changes. */
export interface ChunkPlan {
  updates: Map<string, UnitTotals | null>;
  deltas: VariationDeltaRow[];
}

interface Sums {
  conversions: number;
  sumValue: number;
  sumValueSq: number;
  sumCount: number;
  sumCountSq: number;
}

/**
 * Applies `rows` (one partition's, in offset order) on top of `lookup` without changing it. Rows at or
 * below `deltasAfter` only move the totals: their changes are already in `variation_metrics` (the sink
 * writes the changes first, then the rows, so after a crash between the two the rows are replayed for
 * the state alone). Every touched variation gets a row, zero or not: it records how far the table got.
 * @param lookup the units' totals before the chunk (undefined = zero)
 */
export function planChunk(
  lookup: (key: string) => UnitTotals | undefined,
  rows: readonly AttributedRow[],
  deltasAfter: number,
): ChunkPlan {
  const updates = new Map<string, UnitTotals | null>();
  const sums = new Map<string, Sums>();
  let lastOffset = -1;
  let partition = 0;
  for (const row of rows) {
    const key = unitKey(row);
    const pending = updates.get(key);
    const before = pending === undefined ? lookup(key) : (pending ?? undefined);
    const after = applyRow(before, row);
    updates.set(key, after.events === 0 ? null : after);
    if (row.src_offset <= deltasAfter) continue;
    const variationKey = `${row.project}\u0000${row.experiment}\u0000${row.event}\u0000${row.variation}`;
    const s = sums.get(variationKey) ?? {
      conversions: 0,
      sumValue: 0,
      sumValueSq: 0,
      sumCount: 0,
      sumCountSq: 0,
    };
    addChange(s, before, after);
    sums.set(variationKey, s);
    lastOffset = Math.max(lastOffset, row.src_offset);
    partition = row.src_partition;
  }
  const deltas = [...sums].map(([variationKey, s]): VariationDeltaRow => {
    const [project, experiment, event, variation] = variationKey.split('\u0000') as [
      string,
      string,
      string,
      string,
    ];
    return {
      project,
      experiment,
      event,
      variation,
      conversions: s.conversions,
      sum_value: s.sumValue,
      sum_value_sq: s.sumValueSq,
      sum_count: s.sumCount,
      sum_count_sq: s.sumCountSq,
      src_partition: partition,
      src_offset: lastOffset,
    };
  });
  return { updates, deltas };
}

/** Adds after's contribution minus before's; squares as (a − b)(a + b), which loses less than a² − b². */
function addChange(s: Sums, before: UnitTotals | undefined, after: UnitTotals): void {
  const b = before ?? { events: 0, count: 0, value: 0 };
  s.conversions += (after.events > 0 ? 1 : 0) - (b.events > 0 ? 1 : 0);
  s.sumValue += after.value - b.value;
  s.sumValueSq += (after.value - b.value) * (after.value + b.value);
  s.sumCount += after.count - b.count;
  s.sumCountSq += (after.count - b.count) * (after.count + b.count);
}

/** Where the sink keeps the per-unit totals of the partitions it owns: the heap, or local disk. */
export interface UnitTotalsStorage {
  /** Replaces a partition's totals (a restore). */
  load(partition: number, entries: Iterable<[string, UnitTotals]>): void;
  has(partition: number): boolean;
  lookup(partition: number): (key: string) => UnitTotals | undefined;
  /** Applies a plan whose inserts succeeded. */
  commit(partition: number, plan: ChunkPlan): void;
  /** Units with a live event, over all partitions. */
  size(): number;
  clear(): void;
}

/**
 * The per-unit totals of the partitions a sink owns, restored from ClickHouse on assignment. Per partition,
 * a Map from key to a slot in a Float64Array holding (events, count, value): ~60 B per unit with a live
 * event, where an object with boxed doubles would add ~80 B more.
 */
export class UnitTotalsStore implements UnitTotalsStorage {
  private readonly byPartition = new Map<number, TotalsTable>();

  /** Replaces a partition's totals (a restore). */
  load(partition: number, entries: Iterable<[string, UnitTotals]>): void {
    const table = new TotalsTable();
    for (const [key, totals] of entries) table.set(key, totals);
    this.byPartition.set(partition, table);
  }

  has(partition: number): boolean {
    return this.byPartition.has(partition);
  }

  lookup(partition: number): (key: string) => UnitTotals | undefined {
    const table = this.byPartition.get(partition);
    return (key) => table?.get(key);
  }

  /** Applies a plan whose inserts succeeded. */
  commit(partition: number, plan: ChunkPlan): void {
    let table = this.byPartition.get(partition);
    if (table === undefined) {
      table = new TotalsTable();
      this.byPartition.set(partition, table);
    }
    for (const [key, value] of plan.updates) {
      if (value === null) table.delete(key);
      else table.set(key, value);
    }
  }

  /** Units with a live event, over all partitions. */
  size(): number {
    let n = 0;
    for (const table of this.byPartition.values()) n += table.size;
    return n;
  }

  clear(): void {
    this.byPartition.clear();
  }
}

/** Key → (events, count, value) in slots of a growing Float64Array, freed slots reused. */
class TotalsTable {
  private readonly slotOf = new Map<string, number>();
  private slots = new Float64Array(3 * 1024);
  private readonly free: number[] = [];
  private next = 0;

  get size(): number {
    return this.slotOf.size;
  }

  get(key: string): UnitTotals | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const at = slot * 3;
    return {
      events: this.slots[at] as number,
      count: this.slots[at + 1] as number,
      value: this.slots[at + 2] as number,
    };
  }

  set(key: string, totals: UnitTotals): void {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.next++;
      if (slot * 3 + 3 > this.slots.length) {
        const grown = new Float64Array(this.slots.length * 2);
        grown.set(this.slots);
        this.slots = grown;
      }
      this.slotOf.set(key, slot);
    }
    const at = slot * 3;
    this.slots[at] = totals.events;
    this.slots[at + 1] = totals.count;
    this.slots[at + 2] = totals.value;
  }

  delete(key: string): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return;
    this.slotOf.delete(key);
    this.free.push(slot);
  }
}
