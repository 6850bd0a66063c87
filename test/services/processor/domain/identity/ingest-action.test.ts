import { describe, expect, it } from 'vitest';
import { ingestActionOf } from '../../../../../services/processor/src/domain/identity/ingest-action.ts';
import type { IngestEvent } from '../../../../../services/processor/src/domain/ingest-event.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../../helpers/processor/builders.ts';

describe('ingestActionOf', () => {
  it.each<[string, IngestEvent, string]>([
    ['no identity', ingestExposure({ id: 'x', user: null, anon: null }), 'no user_id or anonymous_id'],
    [
      'empty ids count as absent',
      ingestExposure({ id: 'x', user: '', anon: '' }),
      'no user_id or anonymous_id',
    ],
    [
      'an alias without anonymous_id',
      { ...ingestAlias({ id: 'al', anon: 'a', user: 'u' }), anonymous_id: null },
      'no user_id or anonymous_id',
    ],
    [
      'an alias without user_id',
      { ...ingestAlias({ id: 'al', anon: 'a', user: 'u' }), user_id: null },
      'alias without user_id',
    ],
    [
      'a NaN timestamp',
      ingestExposure({ id: 'x', user: 'u', ts: Number.NaN }),
      'timestamp is not a finite number',
    ],
    ['sample 0', ingestTrack({ id: 't', user: 'u', sample: 0 }), 'sample 0 is not in (0, 1]'],
    ['sample above 1', ingestTrack({ id: 't', user: 'u', sample: 1.5 }), 'sample 1.5 is not in (0, 1]'],
    ['a NaN sample', ingestTrack({ id: 't', user: 'u', sample: Number.NaN }), 'sample NaN is not in (0, 1]'],
    [
      'an infinite value',
      ingestTrack({ id: 't', user: 'u', value: Infinity }),
      'value is not a finite number',
    ],
  ])('rejects %s', (_name, event, reason) => {
    expect(ingestActionOf(event)).toEqual({ ok: false, reason });
  });

  it.each([
    [1, 1],
    [0.5, 2],
    [0.01, 100],
  ])('gives a track with sample %d the weight %d', (sample, weight) => {
    const decoded = ingestActionOf(ingestTrack({ id: 't', user: 'u', sample }));
    expect(decoded.ok && decoded.action.type === 'event' && decoded.action.event).toMatchObject({ weight });
  });

  it('keeps a track without value as value null (it counts, adding 0)', () => {
    const decoded = ingestActionOf(ingestTrack({ id: 't', user: 'u', value: null }));
    expect(decoded.ok && decoded.action.type === 'event' && decoded.action.event).toMatchObject({
      value: null,
    });
  });

  it("gives an exposure the values of the project's declared dimensions only", () => {
    const x = ingestExposure({
      id: 'x',
      user: 'u',
      properties: { country: 'DE', seats: 3, beta: true },
      context: { plan: 'pro', locale: 'de-DE' },
    });
    const decoded = ingestActionOf(x, ['beta', 'country', 'plan', 'seats', 'device']);
    expect(decoded.ok && decoded.action.type === 'event' && decoded.action.event).toMatchObject({
      dimensions: { beta: 'true', country: 'DE', plan: 'pro', seats: '3' },
    });
    const none = ingestActionOf(x);
    expect(
      none.ok && none.action.type === 'event' && none.action.event,
      'no declared dimensions: no values',
    ).toMatchObject({ dimensions: {} });
  });

  it('keys an alias by its anonymous id and targets its user', () => {
    expect(ingestActionOf(ingestAlias({ id: 'al', anon: 'a', user: 'u' }))).toEqual({
      ok: true,
      rawId: 'a',
      action: { type: 'alias', user: 'u' },
    });
  });
});
