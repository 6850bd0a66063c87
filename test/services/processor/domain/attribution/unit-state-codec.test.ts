import { describe, expect, it } from 'vitest';
import {
  deserializeUnitState,
  serializeUnitState,
} from '../../../../../services/processor/src/domain/attribution/unit-state-codec.ts';
import type { UnitState } from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import { track } from '../../../../helpers/processor/builders.ts';

const live: UnitState = {
  kind: 'live',
  mode: 'decision',
  content: {
    exposures: [
      {
        experiment: 'e',
        first_exposure_at: 1000,
        variation: 'A',
        multiple_exposure: false,
        decision_ids: ['d'],
        dimensions: { country: 'DE', plan: 'pro' },
      },
    ],
    tracks: [track('t1', 1100, { value: 2.5, weight: 4, decision: 'd' }), track('t2', 1200)],
  },
};

describe('unit state codec', () => {
  it.each<[string, UnitState]>([
    ['a live unit', live],
    ['a merged unit', { kind: 'merged', mergedInto: 'u' }],
    [
      'a live unit with the CUPED lookback its rows were derived with',
      { ...live, covariates: { buy: 86_400_000 } },
    ],
  ])('round-trips %s', (_name, state) => {
    expect(deserializeUnitState(serializeUnitState(state))).toEqual({ ok: true, value: state });
  });

  it('reads state written before dimensions (version 1): every exposure summary without values', () => {
    if (live.kind !== 'live') throw new Error('fixture is a live unit');
    const { exposures, tracks } = live.content;
    const v1Exposures = exposures.map(({ dimensions: _none, ...summary }) => summary);
    const v1 = JSON.stringify({ v: 1, state: { ...live, content: { exposures: v1Exposures, tracks } } });
    expect(deserializeUnitState(v1)).toEqual({
      ok: true,
      value: { ...live, content: { exposures: v1Exposures.map((x) => ({ ...x, dimensions: {} })), tracks } },
    });
    expect(
      deserializeUnitState('{"v":1,"state":{"kind":"merged","mergedInto":"u"}}'),
      'a merged unit',
    ).toEqual({ ok: true, value: { kind: 'merged', mergedInto: 'u' } });
    expect(serializeUnitState(live), 'written as version 2 without a CUPED lookback').toMatch(/^\{"v":2,/);
    expect(
      serializeUnitState({ ...live, covariates: { buy: 1 } }),
      'version 3 with one: a build that reads up to 2 stops instead of dropping it',
    ).toMatch(/^\{"v":3,/);
  });

  it.each([
    [
      'an unknown version',
      '{"v":7,"state":{"kind":"merged","mergedInto":"u"}}',
      'unit-state: unsupported version 7; this build reads versions 1, 2, 3',
    ],
    [
      'a string version',
      '{"v":"1","state":{"kind":"merged","mergedInto":"u"}}',
      'unit-state: unsupported version "1"; this build reads versions 1, 2, 3',
    ],
    ['an array', '[1]', 'unit-state: no version field; expected {"v":3,"state":...}'],
    [
      'version 2 exposure without dimensions',
      '{"v":2,"state":{"kind":"live","mode":"cumulative","content":{"exposures":[{"experiment":"e","first_exposure_at":1,"variation":"A","multiple_exposure":false,"decision_ids":[]}],"tracks":[]}}}',
      'unit-state: version 2 state has an unexpected shape',
    ],
    [
      'a dimension value that is not a string',
      '{"v":2,"state":{"kind":"live","mode":"cumulative","content":{"exposures":[{"experiment":"e","first_exposure_at":1,"variation":"A","multiple_exposure":false,"decision_ids":[],"dimensions":{"seats":3}}],"tracks":[]}}}',
      'unit-state: version 2 state has an unexpected shape',
    ],
    [
      'a CUPED lookback that is not a positive number',
      '{"v":2,"state":{"kind":"live","mode":"cumulative","covariates":{"buy":-1},"content":{"exposures":[],"tracks":[]}}}',
      'unit-state: version 2 state has an unexpected shape',
    ],
    [
      'an unknown kind',
      '{"v":1,"state":{"kind":"zombie"}}',
      'unit-state: version 1 state has an unexpected shape',
    ],
    [
      'an unknown mode',
      '{"v":1,"state":{"kind":"live","mode":"last-touch","content":{"exposures":[],"tracks":[]}}}',
      'unit-state: version 1 state has an unexpected shape',
    ],
    [
      'a track without weight',
      '{"v":1,"state":{"kind":"live","mode":"cumulative","content":{"exposures":[],"tracks":[{"kind":"track","event_id":"t","timestamp":1,"event":"buy","value":null,"decision_id":null}]}}}',
      'unit-state: version 1 state has an unexpected shape',
    ],
    [
      'an exposure without decision_ids',
      '{"v":1,"state":{"kind":"live","mode":"cumulative","content":{"exposures":[{"experiment":"e","first_exposure_at":1,"variation":"A","multiple_exposure":false}],"tracks":[]}}}',
      'unit-state: version 1 state has an unexpected shape',
    ],
  ])('rejects %s with a clear error', (_name, json, error) => {
    expect(deserializeUnitState(json)).toEqual({ ok: false, error });
  });
});
