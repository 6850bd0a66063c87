/** A stored exposure row for sink tests: an analysed unit's first exposure, with the fields a test sets. */
import type { ExposureRow } from '../../../services/sink/src/sink-rows.ts';

export function exposureRow(unit: string, overrides: Partial<ExposureRow> = {}): ExposureRow {
  return {
    project: 'p',
    experiment: 'e',
    unit,
    variation: 'control',
    first_exposure_at: '2026-01-01 00:00:00.000',
    multiple_exposure: false,
    dimensions: {},
    sign: 1,
    src_partition: 0,
    src_offset: 1,
    ...overrides,
  };
}
