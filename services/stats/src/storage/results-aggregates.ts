/**
 * Pure assembly of what the results queries return into the statistics layer's input. Kept apart from
 * the SQL so the rules (which variations exist, how multiple-exposure units are counted, when the two
 * tables disagree) are unit-tested without ClickHouse.
 */
import type { VariationStats } from '../math/types.ts';

/** One row of the units query: live units of a variation, analysed or multiple-exposure. */
export interface VariationUnitsRow {
  variation: string;
  multipleExposure: boolean;
  /** Σ sign over the rows: the number of live units (each row identity sums to 0 or 1). */
  units: number;
}

/** One row of a metric query: sums over the variation's units that have live attributed events. */
export interface VariationMetricRow {
  variation: string;
  /** Units with at least one live attributed event of the metric (c_u = 1). */
  conversions: number;
  /** Σ x_u, Σ x_u², Σ k_u, Σ k_u² over those units (units without events add 0). */
  sumValue: number;
  sumValueSq: number;
  sumCount: number;
  sumCountSq: number;
}

export type Assembled =
  { ok: true; variations: VariationStats[]; multipleExposureUnits: number } | { ok: false; reason: string };

/**
 * Per-variation sufficient statistics: n from the units rows (analysed units only), the metric sums from
 * the metric rows. Every variation named by an exposure row is listed, including one whose only units are
 * multiple-exposure units or were retracted (0 units); they are sorted by name.
 *
 * Σ w and Σ w·value over the attributed events (for `mean_value`) equal Σ k_u and Σ x_u: both sum the same
 * events, grouped differently.
 *
 * Refused (`ok: false`) when the metric rows cannot belong to the units rows: a variation with events but
 * no exposure, or more converting units than units. That happens only while the two tables disagree
 * (exposure rows not stored yet, or attributed rows the processor no longer corrects after retention); the
 * caller then recomputes with a join on live assignments.
 */
export function assembleVariationStats(
  units: readonly VariationUnitsRow[],
  metrics: readonly VariationMetricRow[],
): Assembled {
  const analysed = new Map<string, number>();
  let multipleExposureUnits = 0;
  for (const row of units) {
    const count = Math.max(0, Math.round(row.units));
    if (row.multipleExposure) {
      multipleExposureUnits += count;
      if (!analysed.has(row.variation)) analysed.set(row.variation, 0);
    } else {
      analysed.set(row.variation, (analysed.get(row.variation) ?? 0) + count);
    }
  }
  const byVariation = new Map(metrics.map((m) => [m.variation, m]));
  for (const m of metrics) {
    const n = analysed.get(m.variation);
    if (n === undefined) {
      return { ok: false, reason: `variation "${m.variation}" has attributed events but no exposure` };
    }
    if (m.conversions > n) {
      return {
        ok: false,
        reason: `variation "${m.variation}" has ${m.conversions} converting units but ${n} units`,
      };
    }
  }
  const variations = [...analysed.keys()].sort(compareNames).map((variation): VariationStats => {
    const m = byVariation.get(variation);
    const sumValue = m?.sumValue ?? 0;
    const sumCount = m?.sumCount ?? 0;
    return {
      variation,
      units: analysed.get(variation) as number,
      conversions: Math.round(m?.conversions ?? 0),
      sumValue,
      sumValueSq: m?.sumValueSq ?? 0,
      // Retractions leave float dust (w − w summed in another order); a count cannot be negative.
      sumCount: Math.max(0, sumCount),
      sumCountSq: m?.sumCountSq ?? 0,
      sumWeight: Math.max(0, sumCount),
      sumWeightedValue: sumValue,
    };
  });
  return { ok: true, variations, multipleExposureUnits };
}

/** Code-point order, the same in every locale (localeCompare is not). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
