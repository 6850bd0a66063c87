import { describe, expect, it } from 'vitest';
import {
  identityKeyOf,
  rawIdentityOf,
  type IngestEvent,
} from '../../../../services/processor/src/domain/ingest-event.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../helpers/processor/builders.ts';

describe('rawIdentityOf', () => {
  it.each<[string, IngestEvent, string | null]>([
    ['user_id when present', ingestTrack({ id: 't', user: 'u', anon: 'a' }), 'u'],
    ['anonymous_id without user_id', ingestExposure({ id: 'x', anon: 'a' }), 'a'],
    ['anonymous_id when user_id is empty', ingestExposure({ id: 'x', user: '', anon: 'a' }), 'a'],
    ['the anonymous_id of an alias', ingestAlias({ id: 'al', anon: 'a', user: 'u' }), 'a'],
    ['null without any id', ingestTrack({ id: 't' }), null],
  ])('is %s', (_name, event, expected) => {
    expect(rawIdentityOf(event)).toBe(expected);
  });
});

describe('identityKeyOf', () => {
  it('is <project>/<rawId>', () => {
    expect(identityKeyOf(ingestTrack({ id: 't', project: 'shop', user: 'u/1' }))).toBe('shop/u/1');
  });

  it('is null without any id', () => {
    expect(identityKeyOf(ingestTrack({ id: 't' }))).toBeNull();
  });
});
