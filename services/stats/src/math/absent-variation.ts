/**
 * A variation the project's configuration names (an experiment's control) before any of its units is
 * stored: at an experiment's start the control's first exposures can be a moment behind a treatment's.
 * Listed with 0 units and zero sums, it gives the answer its usual shape (every variation, the control
 * among them) with no comparison yet (every comparison needs units in both arms), where the request
 * would otherwise be refused. Pure; the lists stay sorted by variation name, as the queries return them.
 */
import type { MetricStats, MetricVariationStats } from './metric-stats.ts';
import type { VariationStats } from './types.ts';

/** `variations` with `name` added at its sorted place with zero statistics (unchanged when present). */
export function withZeroVariation(variations: readonly VariationStats[], name: string): VariationStats[] {
  return insertSorted(variations, statsOfUnitsOnly(name, 0));
}

/** A variation's statistics with `units` units and no attributed event (no conversion, all sums 0). */
export function statsOfUnitsOnly(variation: string, units: number): VariationStats {
  return {
    variation,
    units,
    conversions: 0,
    sumValue: 0,
    sumValueSq: 0,
    sumCount: 0,
    sumCountSq: 0,
    sumWeight: 0,
    sumWeightedValue: 0,
  };
}

/** A catalogue metric's statistics with `name` added (a zero covariate too when the metric has CUPED). */
export function withZeroMetricVariation(stats: MetricStats, name: string): MetricStats {
  const zero: MetricVariationStats = {
    variation: name,
    units: 0,
    conversions: 0,
    sum: 0,
    sumSq: 0,
    denominatorSum: 0,
    denominatorSumSq: 0,
    crossSum: 0,
    ...(stats.variations.some((v) => v.covariate !== undefined)
      ? { covariate: { sum: 0, sumSq: 0, crossSum: 0 } }
      : {}),
  };
  return { ...stats, variations: insertSorted(stats.variations, zero) };
}

/** Units per variation with `name` at 0. */
export function withZeroUnits(
  units: readonly { variation: string; units: number }[],
  name: string,
): { variation: string; units: number }[] {
  return insertSorted(units, { variation: name, units: 0 });
}

function insertSorted<T extends { variation: string }>(list: readonly T[], entry: T): T[] {
  if (list.some((v) => v.variation === entry.variation)) return [...list];
  const at = list.findIndex((v) => v.variation > entry.variation);
  return at < 0 ? [...list, entry] : [...list.slice(0, at), entry, ...list.slice(at)];
}
