import { afterAll, describe, expect, it } from 'vitest';
import { DiskUnitTotalsStore } from '../../../services/sink/src/disk-unit-totals.ts';
import {
  unitKey,
  UnitTotalsStore,
  type UnitTotals,
  type UnitTotalsStorage,
} from '../../../services/sink/src/variation-deltas.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

let directory: LmdbDirectory | null = null;
afterAll(() => directory?.close());

const stores: Record<'memory' | 'disk', () => UnitTotalsStorage> = {
  memory: () => new UnitTotalsStore(),
  disk: () => {
    directory ??= LmdbDirectory.open(tempDir('liftstream-sink-totals-test-'), {
      setting: 'SINK_STATE_DIR',
      what: 'sink state store',
    });
    return new DiskUnitTotalsStore(directory);
  },
};

const updates = (entries: [string, UnitTotals | null][]): Map<string, UnitTotals | null> => new Map(entries);

describe.each(['memory', 'disk'] as const)('per-unit totals, %s store', (kind) => {
  const make = stores[kind];

  it('stores, updates and deletes per partition', () => {
    const store = make();
    store.load(1, [['k1', { events: 2, count: 3, value: 4.5 }]]);
    store.load(2, [['k1', { events: 9, count: 9, value: 9 }]]);
    expect(store.has(1)).toBe(true);
    expect(store.lookup(1)('k1')).toEqual({ events: 2, count: 3, value: 4.5 });
    expect(store.lookup(2)('k1'), 'partitions are separate').toEqual({ events: 9, count: 9, value: 9 });
    expect(store.lookup(3)('k1'), 'a partition never loaded').toBeUndefined();
    store.commit(1, {
      updates: updates([
        ['k1', null],
        ['k2', { events: 1, count: 1, value: -2 }],
      ]),
      deltas: [],
    });
    expect(store.lookup(1)('k1'), 'deleted').toBeUndefined();
    expect(store.lookup(1)('k2')).toEqual({ events: 1, count: 1, value: -2 });
    expect(store.size()).toBe(2);
  });

  it('keeps doubles exactly, and keys exactly even where they are not valid UTF-16', () => {
    const store = make();
    const keys = Array.from({ length: 2_000 }, (_, i) =>
      unitKey({
        project: 'p',
        experiment: 'e',
        event: 'purchase',
        variation: 'a',
        unit: `user-${i}`,
      }),
    );
    // Two keys that differ only in a lone surrogate: UTF-8 would turn both into U+FFFD and merge them.
    keys.push('a\ud800bcdefg', 'a\udbffbcdefg', '\ud800\ud800\udc00\u0000\uffff\u0001ab');
    const values = keys.map((_, i): UnitTotals => ({
      events: i,
      count: i * 0.1,
      value: Math.PI * i - 1e-300,
    }));
    store.commit(0, { updates: new Map(keys.map((k, i) => [k, values[i]!])), deltas: [] });
    expect(store.size(), 'no two keys merged').toBe(keys.length);
    keys.forEach((k, i) => expect(store.lookup(0)(k)).toEqual(values[i]));
  });

  it('load replaces what a partition held, clear forgets every partition', () => {
    const store = make();
    store.load(3, [['a', { events: 1, count: 1, value: 1 }]]);
    store.load(
      3,
      Array.from({ length: 25_000 }, (_, i): [string, UnitTotals] => [
        `k${i}`,
        { events: 1, count: i, value: 0 },
      ]),
    );
    expect(store.lookup(3)('a'), 'gone after the reload').toBeUndefined();
    expect(store.lookup(3)('k24999')).toEqual({ events: 1, count: 24999, value: 0 });
    expect(store.size()).toBe(25_000);
    store.clear();
    expect(store.has(3)).toBe(false);
    expect(store.size()).toBe(0);
    expect(store.lookup(3)('k1')).toBeUndefined();
    if (kind === 'disk') {
      const onDisk = directory!.root.openDB<Buffer, Buffer>('totals-3', {
        encoding: 'binary',
        keyEncoding: 'binary',
      });
      expect(onDisk.getStats(), 'the database itself was dropped').toMatchObject({ entryCount: 0 });
    }
  });
});
