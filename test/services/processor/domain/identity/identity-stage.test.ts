import { describe, expect, it } from 'vitest';
import {
  emptyIdentityState,
  type IdentityState,
} from '../../../../../services/processor/src/domain/identity/identity-state.ts';
import { identityStage } from '../../../../../services/processor/src/domain/identity/identity-stage.ts';
import type { IngestEvent } from '../../../../../services/processor/src/domain/ingest-event.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../../helpers/processor/builders.ts';

/** Feeds events to one key's state in order, returning every step's result. */
function run(events: IngestEvent[], state: IdentityState = emptyIdentityState()) {
  const results = [];
  for (const event of events) {
    const result = identityStage(state, event);
    results.push(result);
    state = result.state;
  }
  return { results, state };
}

describe('identityStage: routing', () => {
  it('sends an event of an unaliased identity to its own unit, converted for the unit stage', () => {
    const { outputs, counters } = identityStage(
      emptyIdentityState(),
      ingestTrack({ id: 't1', anon: 'a', ts: 1500, value: 3, sample: 0.25, decision: 'd' }),
    );
    expect(outputs, 'one event message for unit a').toEqual([
      {
        type: 'event',
        project: 'p',
        unit: 'a',
        via: [],
        event: {
          kind: 'track',
          event_id: 't1',
          timestamp: 1500,
          event: 'buy',
          value: 3,
          weight: 4,
          decision_id: 'd',
        },
      },
    ]);
    expect(counters).toEqual({ events_routed: 1 });
  });

  it('routes an event with both ids by its user_id', () => {
    const { outputs } = identityStage(
      emptyIdentityState(),
      ingestExposure({ id: 'x1', user: 'u', anon: 'a' }),
    );
    expect(outputs[0]).toMatchObject({ type: 'event', unit: 'u' });
  });

  it('converts an exposure with its experiment, variation and decision_id', () => {
    const { outputs } = identityStage(
      emptyIdentityState(),
      ingestExposure({ id: 'x1', user: 'u', ts: 7, experiment: 'e2', variation: 'B', decision: 'd1' }),
    );
    expect(outputs[0], 'exposure as the unit stage sees it').toMatchObject({
      event: {
        kind: 'exposure',
        event_id: 'x1',
        timestamp: 7,
        experiment: 'e2',
        variation: 'B',
        decision_id: 'd1',
      },
    });
  });

  it('sends events after the alias straight to the user', () => {
    const { results } = run([
      ingestAlias({ id: 'al', anon: 'a', user: 'u' }),
      ingestTrack({ id: 't1', anon: 'a' }),
    ]);
    expect(results[1]!.outputs[0], 'routed to the alias target').toMatchObject({ type: 'event', unit: 'u' });
  });
});

describe('identityStage: alias', () => {
  it('records the first alias and tells the anonymous unit to merge into the user', () => {
    const { outputs, state, counters } = identityStage(
      emptyIdentityState(),
      ingestAlias({ id: 'al', anon: 'a', user: 'u' }),
    );
    expect(state.aliasTo).toBe('u');
    expect(outputs).toEqual([{ type: 'merge', project: 'p', unit: 'a', into: 'u' }]);
    expect(counters).toEqual({ aliases_applied: 1 });
  });

  it('ignores a second alias of the same anonymous id: the first alias wins', () => {
    const { results, state } = run([
      ingestAlias({ id: 'al1', anon: 'a', user: 'u1' }),
      ingestAlias({ id: 'al2', anon: 'a', user: 'u2' }),
    ]);
    expect(state.aliasTo, 'still the first user').toBe('u1');
    expect(results[1]!.outputs, 'no second merge').toEqual([]);
    expect(results[1]!.counters).toEqual({ aliases_ignored: 1 });
  });

  it('takes the first-alias slot without merging when an id is aliased to itself', () => {
    const { results, state } = run([
      ingestAlias({ id: 'al1', anon: 'a', user: 'a' }),
      ingestAlias({ id: 'al2', anon: 'a', user: 'u' }),
    ]);
    expect(results[0]!.outputs, 'a unit never merges into itself').toEqual([]);
    expect(state.aliasTo, 'canonical(a) stays a').toBe('a');
    expect(results[1]!.counters, 'the later alias lost').toEqual({ aliases_ignored: 1 });
  });
});

describe('identityStage: message_id dedup', () => {
  it('drops a second event with an accepted message_id: the first accepted copy wins', () => {
    const { results } = run([
      ingestTrack({ id: 't1', user: 'u', messageId: 'm', value: 1 }),
      ingestTrack({ id: 't2', user: 'u', messageId: 'm', value: 2 }),
    ]);
    expect(results[0]!.outputs[0], 'first copy routed').toMatchObject({
      event: { event_id: 't1', value: 1 },
    });
    expect(results[1]!.outputs, 'retry dropped').toEqual([]);
    expect(results[1]!.counters).toEqual({ duplicates_dropped: 1 });
  });

  it('records the message_id with the received_at of the first copy', () => {
    const { state } = run([
      ingestTrack({ id: 't1', user: 'u', messageId: 'm', receivedAt: 5000 }),
      ingestTrack({ id: 't2', user: 'u', messageId: 'm', receivedAt: 9000 }),
    ]);
    expect(state.seen).toEqual({ m: 5000 });
  });

  it('never deduplicates events without a message_id', () => {
    const { results } = run([ingestTrack({ id: 't1', user: 'u' }), ingestTrack({ id: 't2', user: 'u' })]);
    expect(results.map((r) => r.outputs.length)).toEqual([1, 1]);
  });

  it('deduplicates a retried alias before applying it', () => {
    const { results } = run([
      ingestAlias({ id: 'al1', anon: 'a', user: 'u', messageId: 'm' }),
      ingestAlias({ id: 'al2', anon: 'a', user: 'u', messageId: 'm' }),
    ]);
    expect(results[1]!.counters).toEqual({ duplicates_dropped: 1 });
  });

  it('treats a message_id named "__proto__" as an ordinary id', () => {
    const { results, state } = run([
      ingestTrack({ id: 't1', user: 'u', messageId: '__proto__' }),
      ingestTrack({ id: 't2', user: 'u', messageId: '__proto__' }),
    ]);
    expect(Object.hasOwn(state.seen, '__proto__'), 'stored as an own key').toBe(true);
    expect(results[1]!.counters).toEqual({ duplicates_dropped: 1 });
  });

  it('does not record the message_id of a rejected event, so a corrected retry is accepted', () => {
    const { results } = run([
      ingestTrack({ id: 't1', user: 'u', messageId: 'm', sample: 0 }),
      ingestTrack({ id: 't2', user: 'u', messageId: 'm', sample: 1 }),
    ]);
    expect(results[0]!.rejected).toBe('sample 0 is not in (0, 1]');
    expect(results[1]!.counters).toEqual({ events_routed: 1 });
  });
});

describe('identityStage: malformed events', () => {
  it('drops them with the reason and leaves the state alone', () => {
    const state = emptyIdentityState();
    const result = identityStage(state, ingestTrack({ id: 't1', user: null, anon: null }));
    expect(result).toEqual({
      state,
      outputs: [],
      counters: { invalid_dropped: 1 },
      rejected: 'no user_id or anonymous_id',
    });
  });
});
