import { describe, expect, it } from 'vitest';
import {
  emptyIdentityState,
  withSeen,
} from '../../../../services/processor/src/domain/identity/identity-state.ts';
import { identityStoreCodec } from '../../../../services/processor/src/topology/store-codecs.ts';
import type { TransactionalStore } from '../../../../shared/streams/stores/transactional-store.ts';
import { STORAGE_KINDS, storeOf, type StorageKind } from '../../../helpers/processor/stores.ts';

const aliased = { aliasTo: 'u', seen: {} };
const seen = withSeen(emptyIdentityState(), 'm1', 1000);

type Identity = { aliasTo: string | null; seen: Record<string, number> };

describe.each(STORAGE_KINDS)('TransactionalStore over %s storage', (kind: StorageKind) => {
  const store = (cacheKeys?: number): TransactionalStore<Identity> =>
    storeOf(identityStoreCodec, kind, cacheKeys);

  it('reads its own writes before they are committed', () => {
    const s = store();
    s.set('p/a', aliased);
    expect(s.get('p/a'), 'overlay value').toEqual(aliased);
    expect(s.size, 'nothing committed yet').toBe(0);
  });

  it('commit makes the batch changes the committed state and lists each written key once', () => {
    const s = store();
    s.set('p/a', seen);
    s.set('p/a', aliased);
    const changes = s.changes();
    expect(changes, 'one record per key, the last value').toEqual([
      { key: 'p/a', value: identityStoreCodec.encode(aliased) },
    ]);
    s.commit();
    expect(s.get('p/a')).toEqual(aliased);
    expect(s.size).toBe(1);
    expect(s.dirty, 'overlay emptied by commit').toBe(false);
  });

  it('rollback restores exactly the last committed state', () => {
    const s = store();
    s.set('p/a', seen);
    s.commit();
    s.set('p/a', aliased);
    s.set('p/b', aliased);
    s.rollback();
    expect(s.get('p/a'), 'committed value back').toEqual(seen);
    expect(s.get('p/b'), 'uncommitted key gone').toBeUndefined();
  });

  it('an empty value deletes the key and writes a tombstone only if the key was committed', () => {
    const s = store();
    s.set('p/a', seen);
    s.commit();
    s.set('p/a', emptyIdentityState());
    s.set('p/new', emptyIdentityState());
    expect(s.get('p/a'), 'deleted in the overlay').toBeUndefined();
    expect(s.changes(), 'tombstone for the committed key only').toEqual([{ key: 'p/a', value: null }]);
    s.commit();
    expect(s.size).toBe(0);
  });

  it('restores from changelog records, tombstones included, without decoding', () => {
    const s = store();
    s.restore('p/a', identityStoreCodec.encode(aliased));
    s.restore('p/b', 'not even json');
    s.restore('p/b', null);
    expect(s.size).toBe(1);
    expect(s.get('p/a')).toEqual(aliased);
  });

  it('a committed value this build cannot read is STATE_CORRUPT, not a guess', () => {
    const s = store();
    s.restore('p/a', '{"v":9,"state":{}}');
    expect(() => s.get('p/a')).toThrow(/store identity, key p\/a: identity-state: unsupported version 9/);
  });

  it('serves committed values beyond the decoded cache from the storage, unchanged', () => {
    const s = store(2);
    const values = Array.from({ length: 20 }, (_, i) => ({ aliasTo: `u${i}`, seen: {} }));
    values.forEach((v, i) => s.set(`p/${i}`, v));
    s.commit();
    for (let round = 0; round < 2; round++) {
      values.forEach((v, i) => expect(s.get(`p/${i}`), `key ${i}, round ${round}`).toEqual(v));
    }
    expect(s.size).toBe(20);
  });

  it('a rollback after reading through the cache leaves the committed value intact', () => {
    const s = store(1);
    s.set('p/a', seen);
    s.commit();
    const before = s.get('p/a');
    s.set('p/a', aliased);
    s.rollback();
    expect(s.get('p/a')).toEqual(before);
    expect(s.get('p/a')).toEqual(seen);
  });

  it('a restore replaces a value the cache held, and clear forgets everything', () => {
    const s = store();
    s.set('p/a', seen);
    s.commit();
    expect(s.get('p/a')).toEqual(seen);
    s.restore('p/a', identityStoreCodec.encode(aliased));
    expect(s.get('p/a'), 'restored value, not the cached one').toEqual(aliased);
    s.clear();
    expect(s.get('p/a')).toBeUndefined();
    expect(s.size).toBe(0);
    expect([...s.keys()]).toEqual([]);
  });

  it('restores many records (buffered writes) and lists every key once', () => {
    const s = store();
    const n = 25_000;
    for (let i = 0; i < n; i++)
      s.restore(`p/${i}`, identityStoreCodec.encode({ aliasTo: `u${i}`, seen: {} }));
    for (let i = 0; i < n; i += 2) s.restore(`p/${i}`, null);
    expect(s.size).toBe(n / 2);
    const keys = [...s.keys()];
    expect(keys.length, 'every key listed').toBe(n / 2);
    expect(new Set(keys).size, 'no key listed twice').toBe(n / 2);
    expect(s.get('p/24999')).toEqual({ aliasTo: 'u24999', seen: {} });
    expect(s.get('p/24998')).toBeUndefined();
  });

  it('peek reads like get without taking a place in the decoded cache', () => {
    const s = store(1);
    s.set('p/hot', seen);
    s.set('p/cold', aliased);
    s.commit();
    const hot = s.get('p/hot');
    expect(s.peek('p/cold')).toEqual(aliased);
    expect(s.get('p/hot'), 'still the cached object: peek did not evict it').toBe(hot);
  });
});
