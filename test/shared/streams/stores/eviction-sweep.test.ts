import { describe, expect, it } from 'vitest';
import { evictUnit } from '../../../../services/processor/src/domain/attribution/retention.ts';
import type { UnitState } from '../../../../services/processor/src/domain/attribution/unit-state.ts';
import { EvictionSweep } from '../../../../shared/streams/stores/eviction-sweep.ts';
import { BatchOutput } from '../../../../shared/streams/batch-output.ts';
import { unitStoreCodec } from '../../../../services/processor/src/topology/store-codecs.ts';
import type { TransactionalStore } from '../../../../shared/streams/stores/transactional-store.ts';
import { STORAGE_KINDS, storeOf, type StorageKind } from '../../../helpers/processor/stores.ts';
import { track } from '../../../helpers/processor/builders.ts';

const RETENTION_MS = 1000;
const unitWith = (...timestamps: number[]): UnitState => ({
  kind: 'live',
  mode: 'cumulative',
  content: { exposures: [], tracks: timestamps.map((ts, i) => track(`t${ts}-${i}`, ts)) },
});

describe.each(STORAGE_KINDS)('EvictionSweep over %s storage', (kind: StorageKind) => {
  function seeded(count: number): TransactionalStore<UnitState> {
    const store = storeOf(unitStoreCodec, kind);
    for (let i = 0; i < count; i++) store.restore(`p/u${i}`, unitStoreCodec.encode(unitWith(100, 5000)));
    return store;
  }

  it('examines at most keysPerStep keys per step and finishes the store over several steps', () => {
    const store = seeded(5);
    const sweep = new EvictionSweep(store, (s: UnitState, now: number) => evictUnit(s, now, RETENTION_MS), {
      intervalMs: 60_000,
      keysPerStep: 2,
    });
    expect(sweep.step(5000, new BatchOutput()), 'two keys, one old track each').toBe(2);
    expect(store.changes().length, 'the trimmed units are in the batch').toBe(2);
    store.commit();
    expect(sweep.step(5000, new BatchOutput())).toBe(2);
    expect(sweep.step(5000, new BatchOutput()), 'last key').toBe(1);
    store.commit();
    expect(sweep.step(5000, new BatchOutput()), 'no new sweep before the interval').toBe(0);
    const left = store.get('p/u4');
    expect(
      left?.kind === 'live' ? left.content.tracks.map((t) => t.timestamp) : [],
      'recent track kept',
    ).toEqual([5000]);
  });

  it('starts a new sweep once the interval has passed', () => {
    const store = storeOf(unitStoreCodec, kind);
    store.restore('p/u', unitStoreCodec.encode(unitWith(100)));
    const sweep = new EvictionSweep(store, (s: UnitState, now: number) => evictUnit(s, now, RETENTION_MS), {
      intervalMs: 10_000,
      keysPerStep: 10,
    });
    expect(sweep.step(1050, new BatchOutput()), 'nothing old enough at first').toBe(0);
    expect(sweep.step(3000, new BatchOutput()), 'interval not over').toBe(0);
    expect(sweep.step(11_050, new BatchOutput()), 'second sweep evicts the track at 100').toBe(1);
  });

  it('a unit emptied by eviction becomes a tombstone', () => {
    const store = storeOf(unitStoreCodec, kind);
    store.restore('p/u', unitStoreCodec.encode(unitWith(100)));
    const sweep = new EvictionSweep(store, (s: UnitState, now: number) => evictUnit(s, now, RETENTION_MS), {
      intervalMs: 1,
      keysPerStep: 10,
    });
    expect(sweep.step(10_000, new BatchOutput())).toBe(1);
    expect(store.changes()).toEqual([{ key: 'p/u', value: null }]);
  });

  it('one pass over a store of several key pages visits every key once, commits in between', () => {
    const store = seeded(2_500);
    const visits = new Map<string, number>();
    let visiting = '';
    const keys = store.keys.bind(store);
    // Record which key each evict call is for: the sweep reads keys in the store's own order.
    store.keys = function* () {
      for (const key of keys()) {
        visiting = key;
        yield key;
      }
    };
    const sweep = new EvictionSweep(
      store,
      (s: UnitState, now: number) => {
        visits.set(visiting, (visits.get(visiting) ?? 0) + 1);
        return evictUnit(s, now, RETENTION_MS);
      },
      { intervalMs: 60_000, keysPerStep: 300 },
    );
    for (let step = 0; step < 12; step++) {
      sweep.step(5000, new BatchOutput());
      // New keys during the pass, after the old ones in key order: they may or may not be visited.
      store.set(`p/v-new${step}`, unitWith(5000));
      store.commit();
    }
    const old = [...visits].filter(([key]) => key.startsWith('p/u'));
    expect(old.length, 'every old key visited').toBe(2_500);
    expect(
      old.filter(([, n]) => n !== 1),
      'none twice',
    ).toEqual([]);
    const before = visits.size;
    expect(sweep.step(5000, new BatchOutput()), 'the pass is over; the next waits for the interval').toBe(0);
    expect(visits.size, 'nothing visited once the pass is over').toBe(before);
  });
});
