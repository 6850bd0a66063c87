import { describe, expect, it } from 'vitest';
import { evictIdentity } from '../../../../../services/processor/src/domain/identity/identity-retention.ts';
import type { IdentityState } from '../../../../../services/processor/src/domain/identity/identity-state.ts';
import { identityStage } from '../../../../../services/processor/src/domain/identity/identity-stage.ts';
import { ingestTrack } from '../../../../helpers/processor/builders.ts';

describe('evictIdentity', () => {
  const state: IdentityState = { aliasTo: 'u', seen: { old: 1000, edge: 2000, fresh: 3000 } };

  it('forgets message_ids first accepted before now − retention and keeps the alias', () => {
    const result = evictIdentity(state, 10_000, 8000);
    expect(result).toEqual({ state: { aliasTo: 'u', seen: { edge: 2000, fresh: 3000 } }, evicted: 1 });
  });

  it('returns the same state object when nothing is old enough', () => {
    const result = evictIdentity(state, 3000, 5000);
    expect(result.state, 'unchanged state, nothing to write').toBe(state);
    expect(result.evicted).toBe(0);
  });

  it('keeps a "__proto__" message_id as an own key', () => {
    const seen = JSON.parse('{"__proto__": 5000, "old": 1}') as Record<string, number>;
    const result = evictIdentity({ aliasTo: null, seen }, 5000, 1000);
    expect(Object.hasOwn(result.state.seen, '__proto__')).toBe(true);
    expect(result.evicted).toBe(1);
  });

  it('lets a retry arriving after eviction through again (the documented limit)', () => {
    const after = evictIdentity({ aliasTo: null, seen: { m: 1000 } }, 100_000, 1000).state;
    const retry = identityStage(after, ingestTrack({ id: 't2', user: 'u', messageId: 'm' }));
    expect(retry.counters).toEqual({ events_routed: 1 });
  });
});
