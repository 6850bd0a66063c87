import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addExposures,
  canonicalDimensions,
  combineExposures,
  compareStrings,
  exposureOf,
  type ExperimentExposure,
} from '../../../../../services/processor/src/domain/attribution/experiment-exposure.ts';
import { exposure } from '../../../../helpers/processor/builders.ts';

const summary = (
  ts: number,
  variation: string,
  decisions: string[] = [],
  dimensions: Record<string, string> = {},
): ExperimentExposure => ({
  experiment: 'e',
  first_exposure_at: ts,
  variation,
  multiple_exposure: false,
  decision_ids: decisions,
  dimensions,
});

describe('exposureOf', () => {
  it('summarises one exposure, its dimension values included', () => {
    const x = exposure('x', 1000, 'B', { decision: 'd', dimensions: { country: 'DE' } });
    expect(exposureOf(x)).toEqual(summary(1000, 'B', ['d'], { country: 'DE' }));
  });
});

describe('combineExposures', () => {
  it.each<[string, ExperimentExposure, ExperimentExposure, Partial<ExperimentExposure>]>([
    [
      'keeps the earlier first exposure and its variation',
      summary(2000, 'A'),
      summary(1000, 'A'),
      { first_exposure_at: 1000 },
    ],
    [
      'flags two variations as multiple-exposure, variation of the first',
      summary(2000, 'A'),
      summary(1000, 'B'),
      { first_exposure_at: 1000, variation: 'B', multiple_exposure: true },
    ],
    [
      'breaks a tie at the first instant by the smaller variation name',
      summary(1000, 'B'),
      summary(1000, 'A'),
      { variation: 'A', multiple_exposure: true },
    ],
    [
      'keeps a summary multiple-exposure once it is',
      { ...summary(1000, 'A'), multiple_exposure: true },
      summary(500, 'A'),
      { variation: 'A', multiple_exposure: true },
    ],
    [
      'unions decision ids, sorted and distinct',
      summary(1000, 'A', ['d2', 'd3']),
      summary(1000, 'A', ['d1', 'd2']),
      { decision_ids: ['d1', 'd2', 'd3'] },
    ],
    [
      'takes the dimension values of the first exposure, not of the latest',
      summary(1000, 'A', [], { country: 'DE' }),
      summary(2000, 'A', [], { country: 'FR' }),
      { first_exposure_at: 1000, dimensions: { country: 'DE' } },
    ],
    [
      'moves the values with the first exposure when an earlier one arrives late',
      summary(2000, 'A', [], { country: 'FR' }),
      summary(1000, 'A', [], { country: 'DE' }),
      { first_exposure_at: 1000, dimensions: { country: 'DE' } },
    ],
    [
      'takes the values of the variation that wins a tie at the first instant',
      summary(1000, 'B', [], { country: 'DE' }),
      summary(1000, 'A', [], { country: 'FR' }),
      { variation: 'A', multiple_exposure: true, dimensions: { country: 'FR' } },
    ],
    [
      'breaks a tie of instant and variation by the smaller canonical values',
      summary(1000, 'A', [], { country: 'FR' }),
      summary(1000, 'A', [], { country: 'DE', plan: 'pro' }),
      { multiple_exposure: false, dimensions: { country: 'DE', plan: 'pro' } },
    ],
    [
      'prefers some values over none in such a tie ([["country","DE"]] < [])',
      summary(1000, 'A', [], {}),
      summary(1000, 'A', [], { country: 'DE' }),
      { dimensions: { country: 'DE' } },
    ],
  ])('%s', (_name, a, b, expected) => {
    expect(combineExposures(a, b), 'a then b').toMatchObject(expected);
    expect(combineExposures(b, a), 'b then a').toMatchObject(expected);
  });

  // Few distinct values so that ties (same instant, same variation, other dimension values) are common.
  const arbDimensions = fc.oneof(
    fc.constant({}),
    fc.record(
      { country: fc.constantFrom('DE', 'FR'), plan: fc.constantFrom('free', 'pro', '"') },
      { requiredKeys: [] },
    ),
  );
  const arb = fc
    .record({
      ts: fc.integer({ min: 0, max: 3 }),
      variation: fc.constantFrom('A', 'B', 'C'),
      multiple: fc.boolean(),
      decisions: fc.uniqueArray(fc.constantFrom('d1', 'd2', 'd3')),
      dimensions: arbDimensions,
    })
    .map((r) => ({
      ...summary(r.ts, r.variation, [...r.decisions].sort(), r.dimensions),
      multiple_exposure: r.multiple,
    }));

  it('is commutative, associative and idempotent, so arrival order and replays do not matter', () => {
    fc.assert(
      fc.property(arb, arb, arb, (a, b, c) => {
        expect(combineExposures(a, b), 'commutative').toEqual(combineExposures(b, a));
        expect(combineExposures(combineExposures(a, b), c), 'associative').toEqual(
          combineExposures(a, combineExposures(b, c)),
        );
        expect(combineExposures(a, a), 'idempotent').toEqual(a);
      }),
    );
  });

  it('keeps the values of the first exposure of a set, in whatever order it is combined', () => {
    // Single exposures: the set's summary carries the values of its minimum under (instant,
    // variation, canonical values), the order semantics.md and the tie-break define.
    const single = arb.map((x): ExperimentExposure => ({ ...x, multiple_exposure: false, decision_ids: [] }));
    const arrivals = fc
      .array(single, { minLength: 1, maxLength: 6 })
      .chain((xs) => fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }));
    const order = (p: ExperimentExposure, q: ExperimentExposure): number =>
      p.first_exposure_at - q.first_exposure_at ||
      compareStrings(p.variation, q.variation) ||
      compareStrings(canonicalDimensions(p.dimensions), canonicalDimensions(q.dimensions));
    fc.assert(
      fc.property(arrivals, (xs) => {
        const first = [...xs].sort(order)[0]!;
        const combined = xs.reduce(combineExposures);
        expect(combined.first_exposure_at, 'first exposure').toBe(first.first_exposure_at);
        expect(combined.dimensions, 'values of the first exposure').toEqual(first.dimensions);
      }),
    );
  });
});

describe('canonicalDimensions', () => {
  it('is equal exactly for equal values, whatever the key order', () => {
    expect(canonicalDimensions({ plan: 'pro', country: 'DE' })).toBe(
      canonicalDimensions({ country: 'DE', plan: 'pro' }),
    );
    expect(canonicalDimensions({ country: 'DE' })).not.toBe(canonicalDimensions({ country: 'DE', plan: '' }));
    expect(canonicalDimensions({ a: 'b,c' })).not.toBe(canonicalDimensions({ 'a","b': 'c' }));
  });
});

describe('addExposures', () => {
  it('keeps one summary per experiment, sorted by experiment', () => {
    const list = addExposures(
      [{ ...summary(1000, 'A'), experiment: 'z' }],
      [
        { ...summary(900, 'A'), experiment: 'b' },
        { ...summary(800, 'A'), experiment: 'z' },
      ],
    );
    expect(list.map((x) => [x.experiment, x.first_exposure_at])).toEqual([
      ['b', 900],
      ['z', 800],
    ]);
  });
});
