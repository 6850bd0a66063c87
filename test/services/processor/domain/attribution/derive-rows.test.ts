import { describe, expect, it } from 'vitest';
import {
  countsFor,
  deriveRows,
  feedsCovariate,
} from '../../../../../services/processor/src/domain/attribution/derive-rows.ts';
import type { ExperimentExposure } from '../../../../../services/processor/src/domain/attribution/experiment-exposure.ts';
import type { AttributionMode } from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { TrackEvent } from '../../../../../services/processor/src/domain/unit-event.ts';
import { attributedRow, covariateRow, exposureRow, track } from '../../../../helpers/processor/builders.ts';

const x = (o: Partial<ExperimentExposure> = {}): ExperimentExposure => ({
  experiment: 'e',
  first_exposure_at: 1000,
  variation: 'A',
  multiple_exposure: false,
  decision_ids: ['d1'],
  dimensions: {},
  ...o,
});

describe('countsFor', () => {
  it.each<[string, TrackEvent, ExperimentExposure, AttributionMode, boolean]>([
    ['a track after the first exposure', track('t', 1001), x(), 'cumulative', true],
    ['a track at exactly the first exposure', track('t', 1000), x(), 'cumulative', true],
    ['a track 1 ms before the first exposure', track('t', 999), x(), 'cumulative', false],
    [
      'a track of a multiple-exposure unit',
      track('t', 2000),
      x({ multiple_exposure: true }),
      'cumulative',
      false,
    ],
    [
      'cumulative mode ignores the decision_id',
      track('t', 2000, { decision: 'd9' }),
      x(),
      'cumulative',
      true,
    ],
    ['decision mode, matching decision_id', track('t', 2000, { decision: 'd1' }), x(), 'decision', true],
    ['decision mode, another decision_id', track('t', 2000, { decision: 'd9' }), x(), 'decision', false],
    ['decision mode, no decision_id: cumulative rule', track('t', 2000), x(), 'decision', true],
    [
      'decision mode, matching decision_id but before first exposure',
      track('t', 999, { decision: 'd1' }),
      x(),
      'decision',
      false,
    ],
    [
      'decision mode, matching decision_id, multiple-exposure',
      track('t', 2000, { decision: 'd1' }),
      x({ multiple_exposure: true }),
      'decision',
      false,
    ],
  ])('%s → %s', (_name, t, summary, mode, expected) => {
    expect(countsFor(t, summary, mode)).toBe(expected);
  });
});

describe('deriveRows', () => {
  const ref = { project: 'p', unit: 'u' };

  it('gives one exposure row per experiment and one attributed row per counting (track, experiment)', () => {
    const t1 = track('t1', 1500, { value: 2, weight: 4 });
    const t0 = track('t0', 500);
    const rows = deriveRows(
      ref,
      {
        exposures: [
          x({ experiment: 'e1' }),
          x({ experiment: 'e2', first_exposure_at: 2000, variation: 'B' }),
        ],
        tracks: [t0, t1],
      },
      'cumulative',
    );
    expect(rows.exposures).toEqual([
      exposureRow(1000, { experiment: 'e1' }),
      exposureRow(2000, { experiment: 'e2', variation: 'B' }),
    ]);
    expect(rows.attributed, 't1 counts for e1 only; t0 for none').toEqual([
      attributedRow(t1, { experiment: 'e1' }),
    ]);
  });

  it('carries weight and a null value into the attributed row', () => {
    const t = track('t', 1500, { value: null, weight: 2.5 });
    const rows = deriveRows(ref, { exposures: [x()], tracks: [t] }, 'cumulative');
    expect(rows.attributed[0]).toMatchObject({ weight: 2.5, value: null });
  });

  it("carries the summary's dimension values into the exposure row", () => {
    const rows = deriveRows(
      ref,
      { exposures: [x({ dimensions: { country: 'DE' } })], tracks: [] },
      'cumulative',
    );
    expect(rows.exposures).toEqual([exposureRow(1000, { dimensions: { country: 'DE' } })]);
  });

  it('still asserts the exposure row of a multiple-exposure unit, flagged', () => {
    const rows = deriveRows(
      ref,
      { exposures: [x({ multiple_exposure: true })], tracks: [track('t', 2000)] },
      'cumulative',
    );
    expect(rows).toEqual({
      exposures: [exposureRow(1000, { multiple_exposure: true })],
      attributed: [],
      covariates: [],
    });
  });
});

describe('feedsCovariate (CUPED lookback of 100 ms before a first exposure at 1000)', () => {
  it.each<[string, TrackEvent, ExperimentExposure, boolean]>([
    ['1 ms before the first exposure', track('t', 999), x(), true],
    ['exactly lookback before it (the window is closed there)', track('t', 900), x(), true],
    ['1 ms older than the lookback', track('t', 899), x(), false],
    ['at the first exposure (that one is attributed instead)', track('t', 1000), x(), false],
    ['of a multiple-exposure unit', track('t', 950), x({ multiple_exposure: true }), false],
  ])('%s → %s', (_name, t, summary, expected) => {
    expect(feedsCovariate(t, summary, 100)).toBe(expected);
  });
});

describe('deriveRows with a CUPED lookback', () => {
  const ref = { project: 'p', unit: 'u' };
  const pre = track('pre', 950, { value: 3, weight: 2 });
  const old = track('old', 100, { value: 5 });
  const post = track('post', 1500, { value: 7 });
  const other = track('other', 960, { event: 'view' });

  it('emits a covariate row, carrying the first exposure, for each pre-exposure track of a looked-back event', () => {
    const rows = deriveRows(
      ref,
      {
        exposures: [x(), x({ experiment: 'f', first_exposure_at: 990, variation: 'B' })],
        tracks: [pre, old, post, other],
      },
      'cumulative',
      { buy: 100 },
    );
    expect(
      rows.covariates,
      'old is beyond the lookback, post is attributed, view is not looked back',
    ).toEqual([covariateRow(pre, 1000), covariateRow(pre, 990, { experiment: 'f', variation: 'B' })]);
    expect(rows.attributed).toEqual([
      attributedRow(post),
      attributedRow(post, { experiment: 'f', variation: 'B' }),
    ]);
  });

  it('ignores the attribution mode: a pre-exposure track naming another decision still feeds the covariate', () => {
    const t = track('t', 950, { decision: 'elsewhere' });
    const rows = deriveRows(ref, { exposures: [x()], tracks: [t] }, 'decision', { buy: 100 });
    expect(rows.covariates).toEqual([covariateRow(t, 1000)]);
  });

  it('emits none without a lookback (the default)', () => {
    expect(deriveRows(ref, { exposures: [x()], tracks: [pre] }, 'cumulative').covariates).toEqual([]);
  });
});
