import { describe, expect, it } from 'vitest';
import {
  refreshLookback,
  unitRefOf,
} from '../../../../../services/processor/src/domain/attribution/lookback-refresh.ts';
import type { LiveUnit } from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import { covariateRow, minus, plus, track } from '../../../../helpers/processor/builders.ts';

const ref = { project: 'p', unit: 'u' };
const t900 = track('t900', 900);
const t500 = track('t500', 500);
const unit = (covariates?: Record<string, number>): LiveUnit => ({
  kind: 'live',
  mode: 'cumulative',
  ...(covariates === undefined ? {} : { covariates }),
  content: {
    exposures: [
      {
        experiment: 'e',
        first_exposure_at: 1000,
        variation: 'A',
        multiple_exposure: false,
        decision_ids: [],
        dimensions: {},
      },
    ],
    tracks: [t500, t900, track('t1500', 1500)],
  },
});

describe('refreshLookback (the sweep applies a changed cuped to units that get no message)', () => {
  it('asserts the covariate rows of a lookback added since the rows were derived', () => {
    const refreshed = refreshLookback(ref, unit(), { buy: 200 });
    expect(refreshed?.emits).toEqual([plus(covariateRow(t900, 1000))]);
    expect(refreshed?.state.covariates).toEqual({ buy: 200 });
  });

  it('widens a lengthened lookback and retracts everything when cuped is removed', () => {
    expect(refreshLookback(ref, unit({ buy: 200 }), { buy: 600 })?.emits).toEqual([
      plus(covariateRow(t500, 1000)),
    ]);
    const removed = refreshLookback(ref, unit({ buy: 600 }), {});
    expect(removed?.emits).toEqual([minus(covariateRow(t500, 1000)), minus(covariateRow(t900, 1000))]);
    expect(removed?.state).not.toHaveProperty('covariates');
  });

  it('changes nothing when the lookback is the same, or the unit was merged', () => {
    expect(refreshLookback(ref, unit({ buy: 200 }), { buy: 200 })).toBeNull();
    expect(refreshLookback(ref, unit(), {})).toBeNull();
    expect(refreshLookback(ref, { kind: 'merged', mergedInto: 'v' }, { buy: 200 })).toBeNull();
  });

  it('reads the unit key', () => {
    expect(unitRefOf('shop/user/with/slashes')).toEqual({ project: 'shop', unit: 'user/with/slashes' });
  });
});
