import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateBatch } from '../../../../services/gateway/src/validation/validate-batch.ts';
import { validateEvent } from '../../../../services/gateway/src/validation/validate-event.ts';
import { GOOGLEBOT_UA, alias, exposure, testContext, track } from '../../../helpers/gateway-validation.ts';

const ctx = testContext();

describe('validateBatch', () => {
  it('splits a mixed batch by outcome, keeping each index', () => {
    const result = validateBatch(
      [
        track({ properties: { plan: 'pro', coupon: null } }),
        track({ user_id: 'bob@example.com' }),
        exposure({ context: { user_agent: GOOGLEBOT_UA } }),
        alias(),
        'not an event',
      ],
      ctx,
    );
    expect(result.accepted.map((a) => [a.index, a.event.kind])).toEqual([
      [0, 'track'],
      [3, 'alias'],
    ]);
    expect(result.rejected.map((r) => [r.index, r.code, r.field])).toEqual([
      [1, 'pii_email', 'user_id'],
      [4, 'invalid_type', ''],
    ]);
    expect(result.dropped).toEqual([{ index: 2, reason: 'bot' }]);
    expect(result.warnings.map((w) => [w.index, w.code, w.field])).toEqual([
      [0, 'null_property', 'properties.coupon'],
      [0, 'undefined_event', 'event'],
    ]);
    expect(result.undefinedEvents).toEqual([{ index: 0, name: 'purchase' }]);
  });

  it('gives a good event the same verdict whatever bad events surround it', () => {
    const good = track({ value: 3, properties: { plan: 'pro' } });
    const alone = validateEvent(good, ctx);
    const result = validateBatch(
      [null, [], { type: 'track', properties: { x: {} } }, good, 1e308, good],
      ctx,
    );
    expect(result.accepted).toEqual([
      { index: 3, event: alone.status === 'accepted' && alone.event },
      { index: 5, event: alone.status === 'accepted' && alone.event },
    ]);
  });

  it('rejects the holes of a sparse array as non-objects', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    const result = validateBatch([track(), , track()], ctx);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([[1, 'invalid_type']]);
  });

  it('returns empty lists for an empty batch', () => {
    expect(validateBatch([], ctx)).toEqual({
      accepted: [],
      rejected: [],
      dropped: [],
      warnings: [],
      undefinedEvents: [],
    });
  });

  it('never throws and puts every index in exactly one outcome, for arbitrary JSON events', () => {
    const eventLike = fc.record(
      {
        type: fc.oneof(fc.constantFrom('track', 'exposure', 'alias'), fc.jsonValue()),
        event: fc.oneof(fc.constantFrom('purchase', '$exposure'), fc.jsonValue()),
        user_id: fc.oneof(fc.string(), fc.jsonValue()),
        anonymous_id: fc.oneof(fc.string(), fc.jsonValue()),
        experiment: fc.oneof(fc.string(), fc.jsonValue()),
        variation: fc.string(),
        timestamp: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.jsonValue()),
        value: fc.oneof(fc.double(), fc.jsonValue()),
        sample: fc.oneof(fc.double(), fc.jsonValue()),
        properties: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
        context: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue())), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(eventLike, fc.jsonValue()), { maxLength: 20 }), (events) => {
        const result = validateBatch(events, ctx);
        const indexes = [...result.accepted, ...result.rejected, ...result.dropped].map((r) => r.index);
        expect(indexes.sort((a, b) => a - b)).toEqual(events.map((_, i) => i));
      }),
      { numRuns: 500 },
    );
  });
});
