import { describe, expect, it } from 'vitest';
import { computeResults } from '../../../services/stats/src/math/experiment-results.ts';
import type { ExperimentResults, VariationStats } from '../../../services/stats/src/math/types.ts';
import { resultsDifferences } from './results-difference.ts';

function arm(variation: string, units: number, conversions: number): VariationStats {
  const sum = conversions * 10;
  return {
    variation,
    units,
    conversions,
    sumValue: sum,
    sumValueSq: sum * 10,
    sumCount: conversions,
    sumCountSq: conversions,
    sumWeight: conversions,
    sumWeightedValue: sum,
  };
}

function results(treatmentConversions = 120): ExperimentResults {
  const outcome = computeResults({
    variations: [arm('control', 1000, 100), arm('treatment', 1000, treatmentConversions)],
    control: 'control',
  });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.value;
}

/** A deep copy with `f` applied to the treatment row. */
function withTreatment(base: ExperimentResults, f: (row: ExperimentResults['variations'][number]) => void) {
  const copy = structuredClone(base);
  const row = copy.variations.find((v) => v.variation === 'treatment');
  if (row === undefined) throw new Error('no treatment');
  f(row);
  return copy;
}

describe('resultsDifferences', () => {
  it('finds nothing between equal results', () => {
    expect(resultsDifferences(results(), results()), 'differences').toEqual([]);
  });

  it('reports a count that differs by one', () => {
    const diffs = resultsDifferences(results(121), results(120));
    expect(diffs[0], 'first difference').toBe('treatment.conversions: 121 vs 120');
  });

  it('tolerates rounding noise in a statistic but not a real difference', () => {
    const base = results();
    const noisy = withTreatment(base, (r) => (r.p_value = (r.p_value as number) * (1 + 1e-12)));
    const off = withTreatment(base, (r) => (r.p_value = (r.p_value as number) * (1 + 1e-6)));
    expect(resultsDifferences(noisy, base), 'noise').toEqual([]);
    expect(
      resultsDifferences(off, base).map((d) => d.split(':')[0]),
      'real',
    ).toEqual(['treatment.p_value']);
  });

  it('is relative for small figures too: a p-value of 1e-6 off by 1e-12 differs', () => {
    const base = withTreatment(results(), (r) => (r.p_value = 1e-6));
    const off = withTreatment(base, (r) => (r.p_value = 1e-6 + 1e-12));
    const noisy = withTreatment(base, (r) => (r.p_value = 1e-6 * (1 + 1e-12)));
    expect(
      resultsDifferences(off, base).map((d) => d.split(':')[0]),
      'a relative difference of 1e-6',
    ).toEqual(['treatment.p_value']);
    expect(resultsDifferences(noisy, base), 'a relative difference of 1e-12').toEqual([]);
  });

  it('reports a figure that is null on one side only', () => {
    const nulled = withTreatment(results(), (r) => (r.lift_ci = null));
    expect(
      resultsDifferences(nulled, results()).map((d) => d.split(':')[0]),
      'lift_ci',
    ).toEqual(['treatment.lift_ci[0]', 'treatment.lift_ci[1]']);
  });

  it('reports a variation missing on one side', () => {
    const base = results();
    const fewer = { ...base, variations: base.variations.filter((v) => v.variation === 'control') };
    expect(resultsDifferences(fewer, base), 'missing').toContain('treatment: missing vs present');
  });
});
