import type { UnitState } from './unit-state.ts';

/**
 * Drops from a live unit the track events with `timestamp < nowMs − retentionMs`, returning the
 * new state and how many were dropped (the same state object when none were).
 *
 * No retraction is emitted: an evicted track's rows stay final. The unit stage derives its
 * "before" rows from the stored content, so once a track is gone no later diff can retract or
 * re-assert its rows. Exposure summaries are kept whole, so assignment and first exposure stay
 * exact. Limits, by design:
 * - a later change of the unit's assignment (an earlier or conflicting exposure, a merge) does
 *   not correct the evicted tracks' rows;
 * - a replay of an evicted event_id would be counted again, so retention must exceed the
 *   backfill window plus the time a message can spend in flight (exactly-once plumbing makes
 *   replays impossible anyway).
 * `nowMs` is the caller's clock (stream time or wall time), unix ms.
 */
export function evictUnit(
  state: UnitState,
  nowMs: number,
  retentionMs: number,
): { state: UnitState; evicted: number } {
  if (state.kind === 'merged') return { state, evicted: 0 };
  const horizon = nowMs - retentionMs;
  const tracks = state.content.tracks.filter((t) => t.timestamp >= horizon);
  const evicted = state.content.tracks.length - tracks.length;
  if (evicted === 0) return { state, evicted };
  return { state: { ...state, content: { ...state.content, tracks } }, evicted };
}
