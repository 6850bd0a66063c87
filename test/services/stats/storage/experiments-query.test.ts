import { describe, expect, it } from 'vitest';
import { summarise } from '../../../../services/stats/src/storage/experiments-query.ts';

const t0 = Date.UTC(2026, 0, 1);

describe('summarise (experiments listing)', () => {
  it('groups rows per experiment with analysed units per variation and exposure bounds', () => {
    expect(
      summarise([
        {
          experiment: 'b',
          variation: 'x',
          multiple_exposure: 0,
          units: '2',
          live_groups: 1,
          first_ms: t0,
          last_ms: t0,
        },
        {
          experiment: 'a',
          variation: 'treatment',
          multiple_exposure: false,
          units: 5,
          live_groups: 3,
          first_ms: t0 + 10,
          last_ms: t0 + 99,
        },
        {
          experiment: 'a',
          variation: 'control',
          multiple_exposure: false,
          units: 4,
          live_groups: 2,
          first_ms: t0 + 5,
          last_ms: t0 + 50,
        },
        {
          experiment: 'a',
          variation: 'control',
          multiple_exposure: true,
          units: 1,
          live_groups: 1,
          first_ms: t0 + 1,
          last_ms: t0 + 1,
        },
      ]),
    ).toEqual([
      {
        experiment: 'a',
        variations: [
          { variation: 'control', units: 4 },
          { variation: 'treatment', units: 5 },
        ],
        units: 9,
        multipleExposureUnits: 1,
        firstExposureAt: t0 + 1,
        lastExposureAt: t0 + 99,
      },
      {
        experiment: 'b',
        variations: [{ variation: 'x', units: 2 }],
        units: 2,
        multipleExposureUnits: 0,
        firstExposureAt: t0,
        lastExposureAt: t0,
      },
    ]);
  });

  it('leaves exposure bounds null when every unit was retracted', () => {
    const [summary] = summarise([
      {
        experiment: 'e',
        variation: 'v',
        multiple_exposure: false,
        units: 0,
        live_groups: 0,
        first_ms: 0,
        last_ms: 0,
      },
    ]);
    expect(summary?.firstExposureAt, 'no live unit').toBeNull();
    expect(summary?.lastExposureAt).toBeNull();
    expect(summary?.variations, 'the variation is still listed').toEqual([{ variation: 'v', units: 0 }]);
  });
});
