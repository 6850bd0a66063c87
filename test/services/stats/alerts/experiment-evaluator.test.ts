import { describe, expect, it } from 'vitest';
import { analysedUnits } from '../../../../services/stats/src/alerts/experiment-evaluator.ts';

describe('analysedUnits (the SRM input read from the per_variation projection)', () => {
  it('counts analysed units per variation, sorted, and a variation of multiple-exposure units only as 0', () => {
    expect(
      analysedUnits([
        { variation: 'treatment', multipleExposure: false, units: 250 },
        { variation: 'control', multipleExposure: true, units: 3 },
        { variation: 'control', multipleExposure: false, units: 100 },
        { variation: 'b', multipleExposure: true, units: 7 },
      ]),
    ).toEqual([
      { variation: 'b', units: 0 },
      { variation: 'control', units: 100 },
      { variation: 'treatment', units: 250 },
    ]);
  });
});
