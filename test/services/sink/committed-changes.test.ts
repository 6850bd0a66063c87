import { describe, expect, it } from 'vitest';
import { committedChanges } from '../../../services/sink/src/committed-changes.ts';
import type { AttributedRow, ExposureRow } from '../../../services/sink/src/sink-rows.ts';
import { exposureRow } from '../../helpers/sink/exposure-row.ts';

const row = (project: string, experiment: string, unit: string, o: Partial<ExposureRow> = {}): ExposureRow =>
  exposureRow(unit, { project, experiment, ...o });
const attributed = (time: string, sign: 1 | -1): AttributedRow => ({
  project: 'shop',
  experiment: 'a',
  unit: 'u',
  variation: 'control',
  event_id: time,
  event: 'buy',
  timestamp: time,
  weight: 1,
  value: null,
  sign,
  src_partition: 0,
  src_offset: 1,
});
const JAN1 = Date.UTC(2026, 0, 1);

describe('committedChanges (what onCommitted reports)', () => {
  it('lists each (project, experiment) of an insert once, in order of first appearance', () => {
    const rows = [
      row('shop', 'a', 'u1'),
      row('shop', 'b', 'u2'),
      row('shop', 'a', 'u3'),
      row('blog', 'a', 'u4'),
    ];
    expect(
      committedChanges('exposures', rows).map(({ table, project, experiment }) => [
        table,
        project,
        experiment,
      ]),
    ).toEqual([
      ['exposures', 'shop', 'a'],
      ['exposures', 'shop', 'b'],
      ['exposures', 'blog', 'a'],
    ]);
  });

  it('reports the newest counted time asserted and retracted per experiment (freshness)', () => {
    expect(
      committedChanges('attributed', [
        attributed('2026-01-01 00:00:05.250', 1),
        attributed('2026-01-01 00:00:09.000', -1),
        attributed('2026-01-01 00:00:07.000', 1),
        attributed('2026-01-01 00:00:01.000', -1),
      ]),
    ).toEqual([
      {
        table: 'attributed',
        project: 'shop',
        experiment: 'a',
        newestAsserted: JAN1 + 7_000,
        newestRetracted: JAN1 + 9_000,
      },
    ]);
    const exposures = committedChanges('exposures', [
      row('shop', 'a', 'u1', { first_exposure_at: '2026-01-01 00:01:00.000' }),
      row('shop', 'a', 'u2', { first_exposure_at: '2026-01-01 00:02:00.000', multiple_exposure: true }),
    ]);
    expect(exposures[0], 'a multiple-exposure unit is not counted').toMatchObject({
      newestAsserted: JAN1 + 60_000,
      newestRetracted: null,
    });
    const covariates = committedChanges('covariates', [
      { ...attributed('2026-01-01 00:00:05.000', 1), first_exposure_at: '2026-01-01 00:01:00.000' },
    ]);
    expect(covariates[0], 'pre-exposure rows are never counted').toMatchObject({
      newestAsserted: null,
      newestRetracted: null,
    });
  });
});
