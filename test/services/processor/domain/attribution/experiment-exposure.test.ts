import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addExposures,
  combineExposures,
  exposureOf,
  type ExperimentExposure,
} from '../../../../../services/processor/src/domain/attribution/experiment-exposure.ts';
import { exposure } from '../../../../helpers/processor/builders.ts';

const summary = (ts: number, variation: string, decisions: string[] = []): ExperimentExposure => ({
  experiment: 'e',
  first_exposure_at: ts,
  variation,
  multiple_exposure: false,
  decision_ids: decisions,
});

describe('exposureOf', () => {
  it('summarises one exposure', () => {
    expect(exposureOf(exposure('x', 1000, 'B', { decision: 'd' }))).toEqual(summary(1000, 'B', ['d']));
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
  ])('%s', (_name, a, b, expected) => {
    expect(combineExposures(a, b)).toMatchObject(expected);
  });

  const arb = fc
    .record({
      ts: fc.integer({ min: 0, max: 3 }),
      variation: fc.constantFrom('A', 'B', 'C'),
      multiple: fc.boolean(),
      decisions: fc.uniqueArray(fc.constantFrom('d1', 'd2', 'd3')),
    })
    .map((r) => ({ ...summary(r.ts, r.variation, [...r.decisions].sort()), multiple_exposure: r.multiple }));

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
