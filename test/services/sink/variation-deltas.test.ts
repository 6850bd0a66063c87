import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributedRow } from '../../../services/sink/src/sink-rows.ts';
import {
  applyRow,
  planChunk,
  UnitTotalsStore,
  unitKey,
} from '../../../services/sink/src/variation-deltas.ts';
import type { UnitTotals, VariationDeltaRow } from '../../../services/sink/src/variation-deltas.ts';

let nextOffset = 0;
function row(
  unit: string,
  variation: string,
  sign: 1 | -1,
  weight = 1,
  value: number | null = 10,
  event = 'purchase',
): AttributedRow {
  return {
    project: 'p',
    experiment: 'e',
    unit,
    variation,
    event_id: `${unit}-${weight}-${value}`,
    event,
    timestamp: '2026-01-01 00:00:00.000',
    weight,
    value,
    sign,
    src_partition: 0,
    src_offset: nextOffset++,
  };
}

interface Sums {
  conversions: number;
  sumValue: number;
  sumValueSq: number;
  sumCount: number;
  sumCountSq: number;
}

/** Σ of change rows per variation (what a results query reads). */
function summed(deltas: readonly VariationDeltaRow[]): Map<string, Sums> {
  const out = new Map<string, Sums>();
  for (const d of deltas) {
    const key = `${d.event}/${d.variation}`;
    const s = out.get(key) ?? { conversions: 0, sumValue: 0, sumValueSq: 0, sumCount: 0, sumCountSq: 0 };
    s.conversions += d.conversions;
    s.sumValue += d.sum_value;
    s.sumValueSq += d.sum_value_sq;
    s.sumCount += d.sum_count;
    s.sumCountSq += d.sum_count_sq;
    out.set(key, s);
  }
  return out;
}

/** Brute force: live rows (sum of signs per identity), per-unit c/k/x, then per-variation sums. */
function bruteForce(rows: readonly AttributedRow[]): Map<string, Sums> {
  const live = new Map<string, { row: AttributedRow; n: number }>();
  for (const r of rows) {
    const id = JSON.stringify([r.unit, r.variation, r.event, r.event_id, r.weight, r.value]);
    const entry = live.get(id) ?? { row: r, n: 0 };
    entry.n += r.sign;
    live.set(id, entry);
  }
  const units = new Map<string, { event: string; variation: string; k: number; x: number }>();
  for (const { row: r, n } of live.values()) {
    if (n === 0) continue;
    const key = `${r.unit}/${r.event}/${r.variation}`;
    const u = units.get(key) ?? { event: r.event, variation: r.variation, k: 0, x: 0 };
    u.k += n * r.weight;
    u.x += n * r.weight * (r.value ?? 0);
    units.set(key, u);
  }
  const out = new Map<string, Sums>();
  for (const u of units.values()) {
    const key = `${u.event}/${u.variation}`;
    const s = out.get(key) ?? { conversions: 0, sumValue: 0, sumValueSq: 0, sumCount: 0, sumCountSq: 0 };
    s.conversions += 1;
    s.sumValue += u.x;
    s.sumValueSq += u.x * u.x;
    s.sumCount += u.k;
    s.sumCountSq += u.k * u.k;
    out.set(key, s);
  }
  return out;
}

function expectSameSums(actual: Map<string, Sums>, expected: Map<string, Sums>): void {
  for (const [key, want] of expected) {
    const got = actual.get(key);
    expect(got?.conversions, `${key} conversions`).toBe(want.conversions);
    for (const field of ['sumValue', 'sumValueSq', 'sumCount', 'sumCountSq'] as const) {
      expect(Math.abs((got?.[field] ?? 0) - want[field]), `${key} ${field}`).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(want[field])),
      );
    }
  }
  for (const [key, got] of actual) {
    if (expected.has(key)) continue;
    expect(got.conversions, `${key}: no live unit, no conversion`).toBe(0);
    expect(Math.abs(got.sumCountSq) + Math.abs(got.sumValueSq), `${key}: squares back to 0`).toBeLessThan(
      1e-9,
    );
  }
}

describe('applyRow', () => {
  it('adds w and w·value for an assertion, treating a missing value as 0', () => {
    expect(applyRow(undefined, { sign: 1, weight: 2, value: 3 })).toEqual({ events: 1, count: 2, value: 6 });
    expect(applyRow({ events: 1, count: 2, value: 6 }, { sign: 1, weight: 4, value: null })).toEqual({
      events: 2,
      count: 6,
      value: 6,
    });
  });

  it('is exactly zero once every event is retracted, whatever float dust the sums carry', () => {
    const t1 = applyRow(undefined, { sign: 1, weight: 0.1, value: 0.7 });
    const t2 = applyRow(t1, { sign: 1, weight: 0.2, value: 0.3 });
    const t3 = applyRow(t2, { sign: -1, weight: 0.1, value: 0.7 });
    expect(applyRow(t3, { sign: -1, weight: 0.2, value: 0.3 })).toEqual({ events: 0, count: 0, value: 0 });
  });
});

describe('unitKey', () => {
  const base = { project: 'p', experiment: 'e', event: 'm', variation: 'v', unit: 'u-1' };

  it('is 8 code units, the same for the same identity', () => {
    expect(unitKey(base)).toHaveLength(8);
    expect(unitKey({ ...base }), 'deterministic').toBe(unitKey(base));
  });

  it('differs when any part of the identity differs, or when text shifts between parts', () => {
    const keys = new Set([
      unitKey(base),
      unitKey({ ...base, project: 'q' }),
      unitKey({ ...base, experiment: 'f' }),
      unitKey({ ...base, event: 'n' }),
      unitKey({ ...base, variation: 'w' }),
      unitKey({ ...base, unit: 'u-2' }),
      unitKey({ ...base, event: 'mv', variation: '' }),
    ]);
    expect(keys.size, 'seven identities, seven keys').toBe(7);
  });

  it('does not collide over 200,000 units', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200_000; i++) keys.add(unitKey({ ...base, unit: `user-${i}` }));
    expect(keys.size).toBe(200_000);
  });
});

describe('UnitTotalsStore', () => {
  it('stores, updates, deletes and reuses slots per partition', () => {
    const store = new UnitTotalsStore();
    store.load(1, [['k1', { events: 2, count: 3, value: 4.5 }]]);
    expect(store.lookup(1)('k1')).toEqual({ events: 2, count: 3, value: 4.5 });
    expect(store.lookup(2)('k1'), 'partitions are separate').toBeUndefined();
    const updates = new Map<string, UnitTotals | null>([
      ['k1', null],
      ['k2', { events: 1, count: 1, value: -2 }],
    ]);
    store.commit(1, { updates, deltas: [] });
    expect(store.lookup(1)('k1'), 'deleted').toBeUndefined();
    expect(store.lookup(1)('k2'), 'in the freed slot').toEqual({ events: 1, count: 1, value: -2 });
    expect(store.size()).toBe(1);
  });

  it('grows past its initial capacity without losing values', () => {
    const store = new UnitTotalsStore();
    const updates = new Map<string, UnitTotals | null>();
    for (let i = 0; i < 5_000; i++) updates.set(`k${i}`, { events: i + 1, count: i, value: i / 2 });
    store.commit(0, { updates, deltas: [] });
    expect(store.lookup(0)('k4999')).toEqual({ events: 5000, count: 4999, value: 2499.5 });
    expect(store.lookup(0)('k0')).toEqual({ events: 1, count: 0, value: 0 });
  });
});

describe('planChunk', () => {
  it('turns a first conversion into +1 conversion and the unit sums, without touching the lookup', () => {
    const state = new Map<string, UnitTotals>();
    const plan = planChunk((k) => state.get(k), [row('u1', 'a', 1, 2, 5)], -1);
    expect(plan.deltas).toEqual([
      expect.objectContaining({
        variation: 'a',
        conversions: 1,
        sum_value: 10,
        sum_value_sq: 100,
        sum_count: 2,
        sum_count_sq: 4,
      }),
    ]);
    expect(state.size, 'the state moves only on commit').toBe(0);
  });

  it('moves a unit that changed variation: −1 conversion in the old, +1 in the new', () => {
    const store = new UnitTotalsStore();
    const old = row('u1', 'a', 1, 1, 10);
    store.commit(0, planChunk(store.lookup(0), [old], -1));
    const plan = planChunk(
      store.lookup(0),
      [{ ...old, sign: -1, src_offset: nextOffset++ }, row('u1', 'b', 1, 1, 10)],
      -1,
    );
    const byVariation = Object.fromEntries(plan.deltas.map((d) => [d.variation, d]));
    expect(byVariation['a']).toEqual(
      expect.objectContaining({ conversions: -1, sum_value: -10, sum_value_sq: -100 }),
    );
    expect(byVariation['b']).toEqual(
      expect.objectContaining({ conversions: 1, sum_value: 10, sum_value_sq: 100 }),
    );
    store.commit(0, plan);
    expect(store.size(), 'the retracted key is gone').toBe(1);
  });

  it('squares the unit total, not each event: a second event adds (x + v)² − x²', () => {
    const store = new UnitTotalsStore();
    store.commit(0, planChunk(store.lookup(0), [row('u1', 'a', 1, 1, 3)], -1));
    const plan = planChunk(store.lookup(0), [row('u1', 'a', 1, 1, 4)], -1);
    expect(plan.deltas[0]).toEqual(
      expect.objectContaining({ conversions: 0, sum_value: 4, sum_value_sq: 49 - 9 }),
    );
  });

  it('writes no change for rows at or below the stored changes, but still moves the totals', () => {
    const r1 = row('u1', 'a', 1);
    const r2 = row('u2', 'a', 1);
    const plan = planChunk(() => undefined, [r1, r2], r1.src_offset);
    expect(plan.deltas).toEqual([expect.objectContaining({ conversions: 1, src_offset: r2.src_offset })]);
    expect(plan.updates.size, 'both units are in the new totals').toBe(2);
  });

  it('stamps every change row with the last record it accounts for', () => {
    const rows = [row('u1', 'a', 1), row('u2', 'b', 1), row('u3', 'a', 1, 1, 10, 'view')];
    const plan = planChunk(() => undefined, rows, -1);
    expect(new Set(plan.deltas.map((d) => d.src_offset))).toEqual(new Set([rows[2]?.src_offset]));
    expect(plan.deltas.map((d) => `${d.event}/${d.variation}`).sort()).toEqual([
      'purchase/a',
      'purchase/b',
      'view/a',
    ]);
  });
});

/** A valid changelog: retractions only of live assertions (as the processor emits). */
const changelogArb = fc
  .array(
    fc.record({
      retract: fc.boolean(),
      unit: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
      variation: fc.constantFrom('a', 'b'),
      event: fc.constantFrom('purchase', 'view'),
      weight: fc.constantFrom(1, 2, 10, 1 / 0.3),
      value: fc.option(fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), {
        nil: null,
      }),
    }),
    { maxLength: 60 },
  )
  .map((steps) => {
    const live: AttributedRow[] = [];
    const rows: AttributedRow[] = [];
    let offset = 0;
    for (const [i, s] of steps.entries()) {
      if (s.retract && live.length > 0) {
        const victim = live.splice(i % live.length, 1)[0] as AttributedRow;
        rows.push({ ...victim, sign: -1, src_offset: offset++ });
      } else {
        const r: AttributedRow = {
          project: 'p',
          experiment: 'e',
          unit: s.unit,
          variation: s.variation,
          event_id: `ev${i}`,
          event: s.event,
          timestamp: '2026-01-01 00:00:00.000',
          weight: s.weight,
          value: s.value,
          sign: 1,
          src_partition: 0,
          src_offset: offset++,
        };
        live.push(r);
        rows.push(r);
      }
    }
    return rows;
  });

describe('incremental sums (property)', () => {
  it('summed over any chunking, the changes equal the per-variation sums of the final live rows', () => {
    fc.assert(
      fc.property(changelogArb, fc.integer({ min: 1, max: 7 }), (rows, size) => {
        const store = new UnitTotalsStore();
        const deltas: VariationDeltaRow[] = [];
        for (let i = 0; i < rows.length; i += size) {
          const plan = planChunk(store.lookup(0), rows.slice(i, i + size), -1);
          deltas.push(...plan.deltas);
          store.commit(0, plan);
        }
        expectSameSums(summed(deltas), bruteForce(rows));
      }),
      { numRuns: 300 },
    );
  });

  it('after a crash between the changes and the rows, restoring from the stored rows and replaying gives the same sums', () => {
    fc.assert(
      fc.property(changelogArb, fc.integer({ min: 1, max: 7 }), fc.nat(), (rows, size, crashAt) => {
        const chunkStarts: number[] = [];
        for (let i = 0; i < rows.length; i += size) chunkStarts.push(i);
        const crashChunk = chunkStarts.length === 0 ? 0 : crashAt % chunkStarts.length;
        // First run: chunks before the crash stored fully; the crash chunk stores its changes only.
        const first = new UnitTotalsStore();
        const deltas: VariationDeltaRow[] = [];
        let storedRows = 0;
        let storedChanges = -1;
        for (const [c, start] of chunkStarts.entries()) {
          const chunk = rows.slice(start, start + size);
          const plan = planChunk(first.lookup(0), chunk, storedChanges);
          deltas.push(...plan.deltas);
          storedChanges = (chunk[chunk.length - 1] as AttributedRow).src_offset;
          if (c === crashChunk) break;
          storedRows = start + chunk.length;
          first.commit(0, plan);
        }
        // Restart: totals rebuilt from the stored rows only, the rest replayed with the stored changes skipped.
        const restored = new UnitTotalsStore();
        const stored = rows.slice(0, storedRows);
        restored.commit(
          0,
          planChunk(() => undefined, stored, Number.MAX_SAFE_INTEGER),
        );
        for (let i = storedRows; i < rows.length; i += size) {
          const chunk = rows.slice(i, Math.min(i + size, rows.length));
          const plan = planChunk(restored.lookup(0), chunk, storedChanges);
          deltas.push(...plan.deltas);
          restored.commit(0, plan);
        }
        expectSameSums(summed(deltas), bruteForce(rows));
      }),
      { numRuns: 300 },
    );
  });
});
