/**
 * The identity store's value, keyed by raw identity `<project>/<rawId>`. Plain JSON.
 */
export interface IdentityState {
  /** The user this (anonymous) id was first aliased to; null until then. */
  aliasTo: string | null;
  /**
   * message_ids accepted on this key → received_at (unix ms) of the first accepted copy. Keyed
   * by arrival time, not event time, because retries are an arrival-time phenomenon. Read it
   * with `hasSeen`: a message_id such as "__proto__" must be an ordinary key.
   */
  seen: Record<string, number>;
}

/** The state of an identity never seen before. */
export function emptyIdentityState(): IdentityState {
  return { aliasTo: null, seen: {} };
}

/** Whether `messageId` was already accepted on this key. */
export function hasSeen(state: IdentityState, messageId: string): boolean {
  return Object.hasOwn(state.seen, messageId);
}

/** The state with `messageId` recorded as accepted at `receivedAt` (unix ms). */
export function withSeen(state: IdentityState, messageId: string, receivedAt: number): IdentityState {
  // A computed key in a literal defines an own property even for "__proto__" (assignment would
  // set the prototype instead).
  return { ...state, seen: { ...state.seen, [messageId]: receivedAt } };
}
