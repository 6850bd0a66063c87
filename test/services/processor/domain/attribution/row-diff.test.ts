import { describe, expect, it } from 'vitest';
import { NO_ROWS } from '../../../../../services/processor/src/domain/attribution/derive-rows.ts';
import { diffRows, rowIdentity } from '../../../../../services/processor/src/domain/attribution/row-diff.ts';
import { attributedRow, exposureRow, minus, plus, track } from '../../../../helpers/processor/builders.ts';

describe('diffRows', () => {
  const t = track('t1', 1500);

  it('emits nothing when the rows are unchanged', () => {
    const rows = { exposures: [exposureRow(1000)], attributed: [attributedRow(t)], covariates: [] };
    expect(
      diffRows(rows, { exposures: [exposureRow(1000)], attributed: [attributedRow(t)], covariates: [] }),
    ).toEqual([]);
  });

  it('asserts every row of a unit that had none', () => {
    expect(diffRows(NO_ROWS, { exposures: [exposureRow(1000)], attributed: [], covariates: [] })).toEqual([
      plus(exposureRow(1000)),
    ]);
  });

  it('turns a changed field into a retraction of the old row, then an assertion of the new', () => {
    const before = { exposures: [exposureRow(1000)], attributed: [attributedRow(t)], covariates: [] };
    const after = {
      exposures: [exposureRow(1000, { multiple_exposure: true })],
      attributed: [],
      covariates: [],
    };
    expect(diffRows(before, after)).toEqual([
      minus(attributedRow(t)),
      minus(exposureRow(1000)),
      plus(exposureRow(1000, { multiple_exposure: true })),
    ]);
  });

  it('retracts a row with exactly its old dimension values when only they change', () => {
    const de = exposureRow(1000, { dimensions: { country: 'DE', plan: 'pro' } });
    const fr = exposureRow(1000, { dimensions: { country: 'FR', plan: 'pro' } });
    expect(
      diffRows(
        { exposures: [de], attributed: [], covariates: [] },
        { exposures: [fr], attributed: [], covariates: [] },
      ),
    ).toEqual([minus(de), plus(fr)]);
  });

  it('orders each group by row identity, not by input order', () => {
    const a = exposureRow(1000, { experiment: 'a' });
    const b = exposureRow(1000, { experiment: 'b' });
    expect(diffRows(NO_ROWS, { exposures: [b, a], attributed: [], covariates: [] })).toEqual([
      plus(a),
      plus(b),
    ]);
  });
});

describe('rowIdentity', () => {
  it('differs when any field differs, including value null versus 0', () => {
    const row = attributedRow(track('t1', 1500, { value: null }));
    const ids = new Set(
      [
        row,
        { ...row, value: 0 },
        { ...row, weight: 2 },
        { ...row, variation: 'B' },
        { ...row, timestamp: 1501 },
        { ...row, unit: 'v' },
      ].map((r) => rowIdentity({ kind: 'attributed', row: r })),
    );
    expect(ids.size, 'six distinct identities').toBe(6);
  });

  it('tells exposure rows apart by dimension values, not by the order of their keys', () => {
    const row = exposureRow(1000, { dimensions: { country: 'DE', plan: 'pro' } });
    const id = (r: typeof row) => rowIdentity({ kind: 'exposure', row: r });
    expect(id({ ...row, dimensions: { plan: 'pro', country: 'DE' } }), 'same values').toBe(id(row));
    expect(id({ ...row, dimensions: { country: 'DE' } }), 'a value less').not.toBe(id(row));
    expect(id({ ...row, dimensions: { country: 'DE', plan: 'free' } }), 'another value').not.toBe(id(row));
  });

  it('ignores properties that are not row fields', () => {
    const row = exposureRow(1000);
    expect(rowIdentity({ kind: 'exposure', row: { ...row, extra: 1 } as typeof row })).toBe(
      rowIdentity({ kind: 'exposure', row }),
    );
  });
});
