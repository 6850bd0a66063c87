/**
 * Comparison of two results of one experiment the way the end-to-end truth requires: counts exactly,
 * statistics to a relative tolerance (1e-9 by default). Floating-point sums depend on the order they
 * are added in (the reference, ClickHouse and a reordered event stream all add in different orders),
 * so exact equality of statistics would be a false alarm; 1e-9 is far below any difference that
 * could come from a wrong rule (one unit more or less moves a rate by more than 1e-6 at 10⁶ units).
 */
import type { ExperimentResults, VariationResult } from '../../../services/stats/src/math/types.ts';

/**
 * How close two statistics must be: |a − b| ≤ max(relative · max(|a|, |b|), absolute). Relative for
 * every magnitude (a p-value of 1e-6 must agree to 1e-15, not to 1e-9); the absolute floor only serves
 * figures that are 0 on one side and rounding noise on the other (numpy's isclose has the same pair).
 */
export interface Tolerance {
  relative: number;
  absolute: number;
}

const EXACT_FIELDS = ['units', 'conversions'] as const satisfies readonly (keyof VariationResult)[];
const STAT_FIELDS = [
  'conversion_rate',
  'value_per_unit',
  'value_variance',
  'count_per_unit',
  'count_variance',
  'mean_value',
  'lift',
  'p_value',
  'adjusted_p_value',
  'value_lift',
  'value_p_value',
  'count_p_value',
] as const satisfies readonly (keyof VariationResult)[];

/**
 * Every way `actual` differs from `expected`, one readable line each ('treatment.p_value: 0.1 vs
 * 0.2'); empty when they agree. Null must match null exactly (a figure defined on one side only is
 * a real difference). Variations are matched by name, in any order.
 */
export function resultsDifferences(
  actual: ExperimentResults,
  expected: ExperimentResults,
  tolerance: Tolerance = { relative: 1e-9, absolute: 1e-15 },
): string[] {
  const out: string[] = [];
  if (actual.control !== expected.control) out.push(`control: ${actual.control} vs ${expected.control}`);
  const names = new Set([...actual.variations, ...expected.variations].map((v) => v.variation));
  for (const name of [...names].sort()) {
    const a = actual.variations.find((v) => v.variation === name);
    const e = expected.variations.find((v) => v.variation === name);
    if (a === undefined || e === undefined) {
      out.push(
        `${name}: ${a === undefined ? 'missing' : 'present'} vs ${e === undefined ? 'missing' : 'present'}`,
      );
      continue;
    }
    for (const f of EXACT_FIELDS) if (a[f] !== e[f]) out.push(`${name}.${f}: ${a[f]} vs ${e[f]}`);
    for (const f of STAT_FIELDS) compare(`${name}.${f}`, a[f], e[f], tolerance, out);
    compare(`${name}.lift_ci[0]`, a.lift_ci?.[0] ?? null, e.lift_ci?.[0] ?? null, tolerance, out);
    compare(`${name}.lift_ci[1]`, a.lift_ci?.[1] ?? null, e.lift_ci?.[1] ?? null, tolerance, out);
    const [as, es] = [a.sequential ?? null, e.sequential ?? null];
    if ((as === null) !== (es === null))
      out.push(`${name}.sequential: ${JSON.stringify(as)} vs ${JSON.stringify(es)}`);
    compare(`${name}.sequential.p_value`, as?.p_value ?? null, es?.p_value ?? null, tolerance, out);
    compare(
      `${name}.sequential.lift_ci[0]`,
      as?.lift_ci?.[0] ?? null,
      es?.lift_ci?.[0] ?? null,
      tolerance,
      out,
    );
    compare(
      `${name}.sequential.lift_ci[1]`,
      as?.lift_ci?.[1] ?? null,
      es?.lift_ci?.[1] ?? null,
      tolerance,
      out,
    );
  }
  for (const name of new Set([...Object.keys(actual.srm.observed), ...Object.keys(expected.srm.observed)])) {
    if (actual.srm.observed[name] !== expected.srm.observed[name]) {
      out.push(`srm.observed.${name}: ${actual.srm.observed[name]} vs ${expected.srm.observed[name]}`);
    }
  }
  compare('srm.p_value', actual.srm.p_value, expected.srm.p_value, tolerance, out);
  return out;
}

function compare(
  what: string,
  a: number | null,
  e: number | null,
  tolerance: Tolerance,
  out: string[],
): void {
  if (a === null || e === null) {
    if (a !== e) out.push(`${what}: ${a} vs ${e}`);
    return;
  }
  if (
    !(
      Math.abs(a - e) <= Math.max(tolerance.relative * Math.max(Math.abs(a), Math.abs(e)), tolerance.absolute)
    )
  ) {
    out.push(`${what}: ${a} vs ${e}`);
  }
}
