import { describe, expect, it } from 'vitest';
import {
  emptyIdentityState,
  withSeen,
} from '../../../../services/processor/src/domain/identity/identity-state.ts';
import { identityStoreCodec } from '../../../../services/processor/src/state/store-codecs.ts';
import { TransactionalStore } from '../../../../services/processor/src/state/transactional-store.ts';

const aliased = { aliasTo: 'u', seen: {} };
const seen = withSeen(emptyIdentityState(), 'm1', 1000);

function store(): TransactionalStore<{ aliasTo: string | null; seen: Record<string, number> }> {
  return new TransactionalStore(identityStoreCodec);
}

describe('TransactionalStore', () => {
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
});
