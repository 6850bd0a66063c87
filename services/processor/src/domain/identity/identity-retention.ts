import type { IdentityState } from './identity-state.ts';

/**
 * Forgets the message_ids first accepted before `nowMs − retentionMs` (unix ms), returning the
 * new state and how many were forgotten (the same state object when none were). A retry that
 * arrives after its message_id was forgotten is accepted again, so the retention must exceed
 * the longest time a producer keeps retrying; with retention ≥ the gateway's backfill window,
 * a retry carrying its original timestamp is rejected by the gateway anyway. The alias is kept.
 */
export function evictIdentity(
  state: IdentityState,
  nowMs: number,
  retentionMs: number,
): { state: IdentityState; evicted: number } {
  const horizon = nowMs - retentionMs;
  const kept = Object.entries(state.seen).filter(([, receivedAt]) => receivedAt >= horizon);
  const evicted = Object.keys(state.seen).length - kept.length;
  if (evicted === 0) return { state, evicted };
  // Object.fromEntries defines own properties, so a "__proto__" message_id survives.
  return { state: { ...state, seen: Object.fromEntries(kept) }, evicted };
}
