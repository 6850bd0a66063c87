import type {
  AttributedEventRow,
  CovariateEventRow,
  Sign,
  SignedRow,
  UnitExposureRow,
} from '../output-rows.ts';
import { canonicalDimensions, compareStrings } from './experiment-exposure.ts';
import type { DerivedRows } from './derive-rows.ts';

/**
 * The changelog that turns the asserted rows `before` into `after`: −1 for each row of `before`
 * not in `after` (with exactly its asserted fields), then +1 for each row of `after` not in
 * `before`; rows in both emit nothing. Rows are compared on every field, so any change (a new
 * first_exposure_at, a variation, the multiple-exposure flag, dimension values) is a retraction
 * plus an assertion.
 * Each group is sorted by row identity so the output does not depend on content order.
 */
export function diffRows(before: DerivedRows, after: DerivedRows): SignedRow[] {
  const beforeRows = identified(before);
  const afterRows = identified(after);
  const out: SignedRow[] = [];
  for (const [id, row] of sortedEntries(beforeRows)) if (!afterRows.has(id)) out.push(signed(row, -1));
  for (const [id, row] of sortedEntries(afterRows)) if (!beforeRows.has(id)) out.push(signed(row, 1));
  return out;
}

type AnyRow =
  | { kind: 'exposure'; row: UnitExposureRow }
  | { kind: 'attributed'; row: AttributedEventRow }
  | { kind: 'covariate'; row: CovariateEventRow };

/**
 * A string that is equal for two rows exactly when every field is equal. The field lists are
 * spelled out (not Object.keys) so an extra property on a row can never split an identity.
 */
export function rowIdentity(row: AnyRow): string {
  if (row.kind === 'exposure') {
    const r = row.row;
    return JSON.stringify([
      'exposure',
      r.project,
      r.experiment,
      r.unit,
      r.variation,
      r.first_exposure_at,
      r.multiple_exposure,
      canonicalDimensions(r.dimensions),
    ]);
  }
  if (row.kind === 'covariate') {
    const r = row.row;
    return JSON.stringify([
      'covariate',
      r.project,
      r.experiment,
      r.unit,
      r.variation,
      r.first_exposure_at,
      r.event_id,
      r.event,
      r.timestamp,
      r.weight,
      r.value,
    ]);
  }
  const r = row.row;
  return JSON.stringify([
    'attributed',
    r.project,
    r.experiment,
    r.unit,
    r.variation,
    r.event_id,
    r.event,
    r.timestamp,
    r.weight,
    r.value,
  ]);
}

function identified(rows: DerivedRows): Map<string, AnyRow> {
  const out = new Map<string, AnyRow>();
  for (const row of rows.exposures) add(out, { kind: 'exposure', row });
  for (const row of rows.attributed) add(out, { kind: 'attributed', row });
  for (const row of rows.covariates) add(out, { kind: 'covariate', row });
  return out;
}

function add(map: Map<string, AnyRow>, row: AnyRow): void {
  map.set(rowIdentity(row), row);
}

function sortedEntries(map: Map<string, AnyRow>): [string, AnyRow][] {
  return [...map.entries()].sort(([a], [b]) => compareStrings(a, b));
}

function signed(row: AnyRow, sign: Sign): SignedRow {
  switch (row.kind) {
    case 'exposure':
      return { kind: 'exposure', record: { ...row.row, sign } };
    case 'attributed':
      return { kind: 'attributed', record: { ...row.row, sign } };
    case 'covariate':
      return { kind: 'covariate', record: { ...row.row, sign } };
  }
}
