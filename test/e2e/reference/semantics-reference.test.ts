import { describe, expect, it } from 'vitest';
import type { VariationStats } from '../../../services/stats/src/math/types.ts';
import {
  aliasMap,
  canonical,
  referenceExperiments,
  referenceResults,
  referenceSufficientStats,
} from './semantics-reference.ts';
import type { AcceptedEvent, ReferenceSettings } from './semantics-reference.ts';

// Every case is small enough to compute by hand; the expected figures are written out, not derived.

const P = 'shop';
const E = 'checkout';
const M = 'purchase';
const cumulative: ReferenceSettings = { [P]: { attribution: 'cumulative' } };
const decision: ReferenceSettings = { [P]: { attribution: 'decision' } };

type Ids = { user_id?: string; anonymous_id?: string };

function exposure(
  ids: Ids,
  variation: string,
  timestamp: number,
  extra: Partial<AcceptedEvent> = {},
): AcceptedEvent {
  return { project: P, kind: 'exposure', timestamp, experiment: E, variation, ...ids, ...extra };
}

function track(ids: Ids, timestamp: number, extra: Partial<AcceptedEvent> = {}): AcceptedEvent {
  return { project: P, kind: 'track', timestamp, event: M, ...ids, ...extra };
}

function alias(anonymousId: string, userId: string, extra: Partial<AcceptedEvent> = {}): AcceptedEvent {
  return { project: P, kind: 'alias', timestamp: 0, anonymous_id: anonymousId, user_id: userId, ...extra };
}

function statsOf(
  events: AcceptedEvent[],
  variation: string,
  settings: ReferenceSettings = cumulative,
  experiment = E,
): VariationStats {
  const { variations } = referenceSufficientStats(events, settings, P, experiment, M);
  const found = variations.find((v) => v.variation === variation);
  if (found === undefined) throw new Error(`no variation ${variation} in ${JSON.stringify(variations)}`);
  return found;
}

/** Stats of a variation whose units are the given (c, k, x) triples. */
function expected(
  variation: string,
  units: [number, number, number][],
  sumWeight: number,
  sumWeightedValue: number,
) {
  return {
    variation,
    units: units.length,
    conversions: units.reduce((s, [c]) => s + c, 0),
    sumCount: units.reduce((s, [, k]) => s + k, 0),
    sumCountSq: units.reduce((s, [, k]) => s + k * k, 0),
    sumValue: units.reduce((s, [, , x]) => s + x, 0),
    sumValueSq: units.reduce((s, [, , x]) => s + x * x, 0),
    sumWeight,
    sumWeightedValue,
  };
}

describe('identity', () => {
  it('maps an aliased anonymous id to its user and leaves other ids as they are', () => {
    const aliases = aliasMap([alias('a1', 'u1')]);
    expect(canonical(aliases, 'a1'), 'aliased').toBe('u1');
    expect(canonical(aliases, 'u1'), 'the user itself').toBe('u1');
    expect(canonical(aliases, 'a2'), 'unaliased').toBe('a2');
  });

  it('keeps the first alias accepted for an anonymous id', () => {
    expect(aliasMap([alias('a1', 'u1'), alias('a1', 'u2')]).get('a1'), 'first wins').toBe('u1');
  });

  it('follows a chain of aliases to the id that is not aliased', () => {
    const aliases = aliasMap([alias('a1', 'old'), alias('old', 'new')]);
    expect(canonical(aliases, 'a1'), 'a1 → old → new').toBe('new');
    expect(canonical(aliases, 'old'), 'old → new').toBe('new');
    expect(canonical(aliases, 'new'), 'the end of the chain').toBe('new');
  });

  it('follows a chain whatever order its aliases were accepted in', () => {
    const aliases = aliasMap([alias('dev', 'account'), alias('anon', 'dev')]);
    expect(canonical(aliases, 'anon'), 'anon → dev → account').toBe('account');
  });

  it('keeps the first alias of an id as its only link in a chain', () => {
    const aliases = aliasMap([alias('a1', 'u1'), alias('u1', 'v1'), alias('a1', 'u2'), alias('u2', 'v2')]);
    expect(canonical(aliases, 'a1'), 'through u1, not u2').toBe('v1');
  });

  it('terminates on a cycle and puts every id of it, and every id leading into it, in one unit', () => {
    // Which unit is unspecified by the semantics; only "one unit, and the walk ends" is asserted.
    const aliases = aliasMap([alias('x', 'u'), alias('u', 'v'), alias('v', 'x'), alias('a', 'x')]);
    const units = new Set(['x', 'u', 'v', 'a'].map((id) => canonical(aliases, id)));
    expect(units.size, 'one unit for the cycle').toBe(1);
    expect(['x', 'u', 'v'], 'a unit of the cycle').toContain([...units][0]);
    expect(canonical(aliasMap([alias('s', 's')]), 's'), 'an id aliased to itself').toBe('s');
  });
});

describe('attribution in time', () => {
  it('does not count a conversion before the first exposure', () => {
    const events = [track({ anonymous_id: 'a' }, 5, { value: 10 }), exposure({ anonymous_id: 'a' }, 'A', 10)];
    expect(statsOf(events, 'A'), 'one unit, nothing attributed').toEqual(expected('A', [[0, 0, 0]], 0, 0));
  });

  it('counts a conversion at exactly the first exposure', () => {
    const events = [exposure({ anonymous_id: 'a' }, 'A', 10), track({ anonymous_id: 'a' }, 10, { value: 7 })];
    expect(statsOf(events, 'A'), 'converted at t = first exposure').toEqual(expected('A', [[1, 1, 7]], 1, 7));
  });

  it('takes the smallest timestamp as first exposure, whatever the arrival order', () => {
    const events = [
      exposure({ anonymous_id: 'a' }, 'A', 20),
      track({ anonymous_id: 'a' }, 15, { value: 3 }),
      exposure({ anonymous_id: 'a' }, 'A', 10),
    ];
    expect(statsOf(events, 'A'), 'track at 15 is after the exposure at 10').toEqual(
      expected('A', [[1, 1, 3]], 1, 3),
    );
  });
});

describe('aliases in attribution', () => {
  it('re-attributes conversions sent before the alias to the user', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'B', 10),
      track({ anonymous_id: 'a1' }, 20, { value: 5 }),
      alias('a1', 'u1'),
    ];
    expect(statsOf(events, 'B'), 'the anonymous conversion is u1s').toEqual(expected('B', [[1, 1, 5]], 1, 5));
  });

  it('ignores a second alias of the same anonymous id', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      exposure({ user_id: 'u2' }, 'B', 10),
      alias('a1', 'u1'),
      alias('a1', 'u2'),
      track({ anonymous_id: 'a1' }, 20, { value: 5 }),
    ];
    expect(statsOf(events, 'A'), 'u1 converted').toEqual(expected('A', [[1, 1, 5]], 1, 5));
    expect(statsOf(events, 'B'), 'u2 did not').toEqual(expected('B', [[0, 0, 0]], 0, 0));
  });

  it('excludes and counts a unit whose alias merges two variations', () => {
    const events = [
      exposure({ anonymous_id: 'a1' }, 'A', 10),
      exposure({ user_id: 'u1' }, 'B', 12),
      track({ user_id: 'u1' }, 20),
      exposure({ user_id: 'u2' }, 'B', 10),
      alias('a1', 'u1'),
    ];
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    expect(result.multipleExposureUnits, 'u1 (with a1) is a multiple-exposure unit').toBe(1);
    expect(result.variations, 'only u2 is analysed; A is still listed').toEqual([
      expected('A', [], 0, 0),
      expected('B', [[0, 0, 0]], 0, 0),
    ]);
  });

  it('counts a chain anon → device user → account as one unit', () => {
    const events = [
      exposure({ anonymous_id: 'anon' }, 'A', 10),
      track({ user_id: 'dev', anonymous_id: 'anon' }, 11, { value: 2 }),
      exposure({ user_id: 'account' }, 'A', 12),
      track({ user_id: 'account' }, 13, { value: 3 }),
      alias('dev', 'account'),
      alias('anon', 'dev'),
    ];
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    expect(result.variations, 'one unit with both tracks').toEqual([expected('A', [[1, 2, 5]], 2, 5)]);
  });

  it('counts each event of an alias cycle once, in one unit', () => {
    const events = [
      exposure({ user_id: 'x' }, 'A', 10),
      exposure({ user_id: 'u' }, 'A', 11),
      track({ user_id: 'x' }, 12, { value: 2 }),
      track({ user_id: 'u' }, 13, { value: 3 }),
      alias('x', 'u'),
      alias('u', 'x'),
    ];
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    expect(result.variations, 'one unit, both tracks once').toEqual([expected('A', [[1, 2, 5]], 2, 5)]);
  });

  it('applies canonical to a user_id that was itself aliased as an anonymous id', () => {
    const events = [
      alias('old', 'new'),
      exposure({ user_id: 'old' }, 'A', 10),
      track({ user_id: 'new' }, 11, { value: 2 }),
      track({ user_id: 'old' }, 12, { value: 3 }),
    ];
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    expect(result.variations, 'one unit "new" with both tracks').toEqual([expected('A', [[1, 2, 5]], 2, 5)]);
  });

  it('puts an event carrying both ids on canonical(user_id) without aliasing the anonymous id', () => {
    const events = [
      exposure({ user_id: 'u1', anonymous_id: 'a1' }, 'A', 10),
      track({ anonymous_id: 'a1' }, 20, { value: 4 }),
    ];
    expect(statsOf(events, 'A'), 'a1 alone is another identity').toEqual(expected('A', [[0, 0, 0]], 0, 0));
  });
});

describe('deduplication', () => {
  it('counts a message_id once, the first accepted, even under different identities', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      exposure({ user_id: 'u2' }, 'A', 10),
      track({ user_id: 'u1' }, 20, { value: 10, message_id: 'm1' }),
      track({ user_id: 'u2' }, 21, { value: 99, message_id: 'm1' }),
      track({ user_id: 'u1' }, 22, { value: 10, message_id: 'm1' }),
    ];
    expect(statsOf(events, 'A'), 'only the first m1, on u1').toEqual(
      expected(
        'A',
        [
          [1, 1, 10],
          [0, 0, 0],
        ],
        1,
        10,
      ),
    );
  });

  it('deduplicates exposures and aliases by message_id too', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10, { message_id: 'x' }),
      exposure({ user_id: 'u1' }, 'B', 10, { message_id: 'x' }),
      alias('a1', 'u1', { message_id: 'y' }),
      alias('a2', 'u1', { message_id: 'y' }),
      track({ anonymous_id: 'a2' }, 20),
    ];
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    expect(result.multipleExposureUnits, 'the B exposure was a duplicate').toBe(0);
    expect(result.variations, 'a2 was never aliased').toEqual([expected('A', [[0, 0, 0]], 0, 0)]);
  });

  it('keeps the same message_id in two projects apart', () => {
    const other = (e: AcceptedEvent): AcceptedEvent => ({ ...e, project: 'blog' });
    const events = [
      other(exposure({ user_id: 'u1' }, 'A', 10)),
      other(track({ user_id: 'u1' }, 20, { value: 1, message_id: 'm1' })),
      exposure({ user_id: 'u1' }, 'A', 10),
      track({ user_id: 'u1' }, 20, { value: 1, message_id: 'm1' }),
    ];
    expect(statsOf(events, 'A'), 'shop counts its m1').toEqual(expected('A', [[1, 1, 1]], 1, 1));
  });
});

describe('weights and values', () => {
  it('weighs a sampled event by 1/sample in counts and values, not in conversions', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      track({ user_id: 'u1' }, 20, { value: 10, sample: 0.5 }),
      track({ user_id: 'u1' }, 21, { value: 2, sample: 1 }),
    ];
    // k = 2 + 1 = 3, x = 2·10 + 1·2 = 22
    expect(statsOf(events, 'A'), 'weighted').toEqual(expected('A', [[1, 3, 22]], 3, 22));
  });

  it('adds 0 to values for an event without value, but still counts it', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      track({ user_id: 'u1' }, 20, { sample: 0.25 }),
      track({ user_id: 'u1' }, 21, { value: 8 }),
    ];
    // k = 4 + 1 = 5, x = 0 + 8; mean_value = 8 / 5
    expect(statsOf(events, 'A'), 'value-less event').toEqual(expected('A', [[1, 5, 8]], 5, 8));
    const result = referenceResults(events, cumulative, P, E, M, { control: 'A' });
    expect(result.ok && result.value.variations[0]?.mean_value, 'mean_value').toBe(8 / 5);
  });

  it('counts analysed units without events as zeros', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      exposure({ user_id: 'u2' }, 'A', 10),
      exposure({ user_id: 'u3' }, 'A', 10),
      track({ user_id: 'u2' }, 20, { value: 10 }),
      track({ user_id: 'u4' }, 20, { value: 50 }),
    ];
    expect(statsOf(events, 'A'), 'three units, u4 unexposed').toEqual(
      expected(
        'A',
        [
          [0, 0, 0],
          [1, 1, 10],
          [0, 0, 0],
        ],
        1,
        10,
      ),
    );
  });

  it('only counts the metric asked for', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10),
      track({ user_id: 'u1' }, 20, { event: 'signup', value: 1 }),
    ];
    expect(statsOf(events, 'A'), 'signup is not purchase').toEqual(expected('A', [[0, 0, 0]], 0, 0));
  });
});

describe('decision attribution', () => {
  const twoExperiments = (trackExtra: Partial<AcceptedEvent>): AcceptedEvent[] => [
    exposure({ user_id: 'u1' }, 'A', 10, { decision_id: 'd1' }),
    exposure({ user_id: 'u1' }, 'A', 10, { experiment: 'search', decision_id: 'd2' }),
    track({ user_id: 'u1' }, 20, { value: 1, ...trackExtra }),
  ];

  it('counts a track with a decision_id only for the experiment whose exposure carries it', () => {
    const events = twoExperiments({ decision_id: 'd1' });
    expect(statsOf(events, 'A', decision, E), 'checkout: d1 matches').toEqual(
      expected('A', [[1, 1, 1]], 1, 1),
    );
    expect(statsOf(events, 'A', decision, 'search'), 'search: d1 does not').toEqual(
      expected('A', [[0, 0, 0]], 0, 0),
    );
  });

  it('falls back to cumulative for a track without decision_id', () => {
    const events = twoExperiments({});
    expect(statsOf(events, 'A', decision, E), 'checkout').toEqual(expected('A', [[1, 1, 1]], 1, 1));
    expect(statsOf(events, 'A', decision, 'search'), 'search').toEqual(expected('A', [[1, 1, 1]], 1, 1));
  });

  it('ignores decision_id in cumulative mode', () => {
    const events = twoExperiments({ decision_id: 'd1' });
    expect(statsOf(events, 'A', cumulative, 'search'), 'search counts it').toEqual(
      expected('A', [[1, 1, 1]], 1, 1),
    );
  });

  it('still requires the track to be at or after first exposure', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10, { decision_id: 'd1' }),
      track({ user_id: 'u1' }, 9, { value: 1, decision_id: 'd1' }),
    ];
    expect(statsOf(events, 'A', decision), 'before first exposure').toEqual(expected('A', [[0, 0, 0]], 0, 0));
  });

  it('accepts a decision_id carried by any exposure of the unit, not only the first', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'A', 10, { decision_id: 'd1' }),
      exposure({ user_id: 'u1' }, 'A', 30, { decision_id: 'd9' }),
      track({ user_id: 'u1' }, 20, { value: 1, decision_id: 'd9' }),
    ];
    expect(statsOf(events, 'A', decision), 'd9 belongs to the unit in E').toEqual(
      expected('A', [[1, 1, 1]], 1, 1),
    );
  });
});

describe('results and experiments', () => {
  it('passes the reference stats, control and expected split to computeResults', () => {
    const events: AcceptedEvent[] = [];
    for (let i = 0; i < 4; i++) events.push(exposure({ user_id: `c${i}` }, 'control', 10));
    for (let i = 0; i < 4; i++) events.push(exposure({ user_id: `t${i}` }, 'treatment', 10));
    events.push(track({ user_id: 'c0' }, 20, { value: 10 }));
    events.push(track({ user_id: 't0' }, 20, { value: 10 }), track({ user_id: 't1' }, 20, { value: 30 }));
    const settings: ReferenceSettings = {
      [P]: { attribution: 'cumulative', expectedSplit: { [E]: { control: 1, treatment: 3 } } },
    };
    const outcome = referenceResults(events, settings, P, E, M, { control: 'control', confidence: 0.9 });
    if (!outcome.ok) throw new Error(outcome.error.message);
    const t = outcome.value.variations.find((v) => v.variation === 'treatment');
    expect(outcome.value.control, 'control').toBe('control');
    expect(outcome.value.confidence, 'confidence').toBe(0.9);
    expect(t?.conversion_rate, 'treatment rate 2/4').toBe(0.5);
    expect(t?.lift, 'lift 0.5/0.25 − 1').toBe(1);
    expect(t?.value_lift, 'value lift (40/4)/(10/4) − 1').toBe(3);
    expect(outcome.value.srm.expected, 'expected split 1:3 of 8 units').toEqual({ control: 2, treatment: 6 });
  });

  it('lists every experiment of every project with its analysed units', () => {
    const events = [
      exposure({ user_id: 'u1' }, 'B', 10),
      exposure({ user_id: 'u2' }, 'A', 10),
      exposure({ user_id: 'u2' }, 'B', 11),
      exposure({ user_id: 'u3' }, 'A', 10, { experiment: 'search' }),
      { ...exposure({ user_id: 'u1' }, 'A', 10), project: 'blog' },
    ];
    expect(referenceExperiments(events, cumulative), 'sorted by project then experiment').toEqual([
      {
        project: 'blog',
        experiment: E,
        variations: [{ variation: 'A', units: 1 }],
        multipleExposureUnits: 0,
      },
      {
        project: P,
        experiment: E,
        variations: [
          { variation: 'A', units: 0 },
          { variation: 'B', units: 1 },
        ],
        multipleExposureUnits: 1,
      },
      {
        project: P,
        experiment: 'search',
        variations: [{ variation: 'A', units: 1 }],
        multipleExposureUnits: 0,
      },
    ]);
  });

  it('handles 50,000 events in well under two seconds', () => {
    const events: AcceptedEvent[] = [];
    for (let i = 0; i < 10_000; i++) {
      events.push(
        exposure({ anonymous_id: `a${i}` }, i % 2 === 0 ? 'A' : 'B', 1000 + i, { message_id: `e${i}` }),
      );
      events.push(track({ anonymous_id: `a${i}` }, 2000 + i, { value: i % 7, message_id: `t${i}` }));
      events.push(track({ user_id: `u${i}` }, 2000 + i, { value: 1, sample: 0.5 }));
      events.push(alias(`a${i}`, `u${i}`, { message_id: `l${i}` }));
      events.push(track({ user_id: `u${i}` }, 2000 + i, { value: 1, message_id: `t${i}` }));
    }
    const started = performance.now();
    const result = referenceSufficientStats(events, cumulative, P, E, M);
    const elapsedMs = performance.now() - started;
    expect(
      result.variations.map((v) => v.units),
      'units per arm',
    ).toEqual([5000, 5000]);
    // Per unit: value (i % 7) at weight 1 plus value 1 at weight 2; the duplicate t${i} is dropped.
    expect(
      result.variations.reduce((s, v) => s + v.sumCount, 0),
      'Σ k',
    ).toBe(30_000);
    expect(elapsedMs, 'elapsed ms').toBeLessThan(2000);
  });
});
