import { describe, expect, it } from 'vitest';
import { SRM_ACTIVE_WINDOW_MS, srmAlarms } from '../../../../services/stats/src/metrics/srm-alarms.ts';
import type { ExperimentSummary } from '../../../../services/stats/src/storage/experiments-query.ts';

const NOW = 1_900_000_000_000;

function summary(
  experiment: string,
  units: Record<string, number>,
  lastExposureAt = NOW - 60_000,
): ExperimentSummary {
  const variations = Object.entries(units).map(([variation, n]) => ({ variation, units: n }));
  return {
    experiment,
    variations,
    units: variations.reduce((sum, v) => sum + v.units, 0),
    multipleExposureUnits: 0,
    firstExposureAt: lastExposureAt - 3_600_000,
    lastExposureAt,
  };
}

const project = (expectedSplit: Record<string, Record<string, number>> = {}) => ({
  id: 'shop',
  expectedSplit,
});

describe('srmAlarms', () => {
  it('raises the alarm on a 600/400 split expected equal, and not on 500/500', () => {
    const alarms = srmAlarms(
      project(),
      [summary('skewed', { a: 600, b: 400 }), summary('fair', { a: 500, b: 500 })],
      NOW,
    );
    expect(alarms.map((a) => [a.experiment, a.alarm])).toEqual([
      ['skewed', true],
      ['fair', false],
    ]);
    expect(alarms[0]?.pValue, 'χ² = 40 on 1 df').toBeLessThan(1e-9);
    expect(alarms[1]?.pValue, 'no deviation at all').toBe(1);
  });

  it("weighs by the project's expectedSplit, as the results endpoint does", () => {
    const alarms = srmAlarms(
      project({ skewed: { a: 3, b: 2 } }),
      [summary('skewed', { a: 600, b: 400 })],
      NOW,
    );
    expect(alarms.map((a) => [a.experiment, a.alarm, a.pValue])).toEqual([['skewed', false, 1]]);
  });

  it('counts a weighted variation nobody was exposed to as 0 units (the strongest mismatch)', () => {
    const alarms = srmAlarms(project({ e: { a: 1, b: 1 } }), [summary('e', { a: 100 })], NOW);
    expect(alarms[0]?.alarm).toBe(true);
  });

  it('leaves out experiments without a first exposure in the active window', () => {
    const stale = summary('ended', { a: 600, b: 400 }, NOW - SRM_ACTIVE_WINDOW_MS - 1);
    expect(srmAlarms(project(), [stale], NOW)).toEqual([]);
  });

  it('leaves out an experiment whose configured split misses an exposed variation (invalid configuration)', () => {
    expect(srmAlarms(project({ e: { a: 1 } }), [summary('e', { a: 600, b: 400 })], NOW)).toEqual([]);
  });

  it('publishes 0 when the p-value is undefined (one variation, no weights)', () => {
    const alarms = srmAlarms(project(), [summary('single', { a: 10 })], NOW);
    expect(alarms.map((a) => [a.alarm, a.pValue])).toEqual([[false, null]]);
  });
});
