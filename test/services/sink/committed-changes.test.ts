import { describe, expect, it } from 'vitest';
import { committedChanges } from '../../../services/sink/src/clickhouse-sink.ts';
import type { ExposureRow } from '../../../services/sink/src/sink-rows.ts';

const row = (project: string, experiment: string, unit: string): ExposureRow => ({
  project,
  experiment,
  unit,
  variation: 'control',
  first_exposure_at: '2026-01-01 00:00:00.000',
  multiple_exposure: false,
  dimensions: {},
  sign: 1,
  src_partition: 0,
  src_offset: 1,
});

describe('committedChanges (what onCommitted reports)', () => {
  it('lists each (project, experiment) of an insert once, in order of first appearance', () => {
    const rows = [
      row('shop', 'a', 'u1'),
      row('shop', 'b', 'u2'),
      row('shop', 'a', 'u3'),
      row('blog', 'a', 'u4'),
    ];
    expect(committedChanges('exposures', rows)).toEqual([
      { table: 'exposures', project: 'shop', experiment: 'a' },
      { table: 'exposures', project: 'shop', experiment: 'b' },
      { table: 'exposures', project: 'blog', experiment: 'a' },
    ]);
  });
});
