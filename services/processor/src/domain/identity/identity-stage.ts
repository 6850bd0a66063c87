import type { IngestEvent } from '../ingest-event.ts';
import type { UnitMessage } from '../unit-message.ts';
import { hasSeen, withSeen, type IdentityState } from './identity-state.ts';
import { ingestActionOf } from './ingest-action.ts';

/** What the identity stage counts (each value is how many times it happened in one step). */
export type IdentityCounter =
  'events_routed' | 'duplicates_dropped' | 'aliases_applied' | 'aliases_ignored' | 'invalid_dropped';

/** The result of one identity-stage step. */
export interface IdentityStepResult {
  state: IdentityState;
  /** Messages for the unit stage (repartition topic, key `unitKey(message)`). */
  outputs: UnitMessage[];
  counters: Partial<Record<IdentityCounter, number>>;
  /** Why the event was rejected as malformed (dead-letter material), else null. */
  rejected: string | null;
}

/**
 * Stage 1, keyed by raw identity `<project>/<rawId>` (see `identityKeyOf`); `state` is that
 * key's state. In order:
 * - a malformed event (the gateway should have rejected it) is dropped with a reason;
 * - a `message_id` already accepted on this key is dropped as a duplicate: the first accepted
 *   copy wins. Exact for retries, which carry the same identity and so land on the same key.
 *   Known limits: two events of different identities that reuse a message_id are on different
 *   keys and both kept; a retry arriving after its message_id was evicted is kept;
 * - alias(anonymous X → user U), on key X: the first alias sets `aliasTo` and sends unit X the
 *   command "merge into U"; any later alias of X is ignored (first alias wins). An alias of X to
 *   X itself takes the first-alias slot but merges nothing;
 * - an exposure or track goes to unit `aliasTo ?? rawId` (before the alias, to X itself; the
 *   merge later carries those events to U). Sending straight to `aliasTo` only saves a hop:
 *   merged unit X would forward the event to U anyway.
 *
 * `dimensions` are the project's declared dimension names (PROJECTS_FILE): an exposure carries
 * their values, not its whole properties and context, so the repartition topic and the unit state
 * stay small. A change of the declared names applies to exposures read after it.
 */
export function identityStage(
  state: IdentityState,
  event: IngestEvent,
  dimensions: readonly string[] = [],
): IdentityStepResult {
  const decoded = ingestActionOf(event, dimensions);
  if (!decoded.ok) return { state, outputs: [], counters: { invalid_dropped: 1 }, rejected: decoded.reason };
  if (event.message_id !== null && hasSeen(state, event.message_id)) {
    return { state, outputs: [], counters: { duplicates_dropped: 1 }, rejected: null };
  }
  const accepted = event.message_id === null ? state : withSeen(state, event.message_id, event.received_at);
  const { rawId, action } = decoded;
  const { project } = event;

  if (action.type === 'event') {
    const unit = accepted.aliasTo ?? rawId;
    return {
      state: accepted,
      outputs: [{ type: 'event', project, unit, event: action.event, via: [] }],
      counters: { events_routed: 1 },
      rejected: null,
    };
  }
  if (accepted.aliasTo !== null) {
    return { state: accepted, outputs: [], counters: { aliases_ignored: 1 }, rejected: null };
  }
  const { user } = action;
  return {
    state: { ...accepted, aliasTo: user },
    outputs: user === rawId ? [] : [{ type: 'merge', project, unit: rawId, into: user }],
    counters: { aliases_applied: 1 },
    rejected: null,
  };
}
