import { describe, expect, it } from 'vitest';
import {
  formatDateTime64,
  insertDedupToken,
  ROW_READERS,
  SINK_TABLES,
  toAttributedRow,
  toCovariateRow,
  toExposureRow,
} from '../../../services/sink/src/sink-rows.ts';
import { topicNames } from '../../../shared/kafka/topics.ts';

const at = { partition: 3, offset: 41 };
const exposure = {
  project: 'shop',
  experiment: 'checkout',
  unit: 'u-1',
  variation: 'treatment',
  first_exposure_at: Date.UTC(2026, 0, 31, 12, 30, 5, 7),
  multiple_exposure: false,
  dimensions: { country: 'DE', seats: '3' },
  sign: 1,
};
const attributed = {
  project: 'shop',
  experiment: 'checkout',
  unit: 'u-1',
  variation: 'treatment',
  event_id: 'ev-9',
  event: 'purchase',
  timestamp: Date.UTC(2026, 1, 1),
  weight: 2,
  value: 19.5,
  sign: -1,
};

describe('formatDateTime64', () => {
  it('writes unix ms as UTC text with milliseconds', () => {
    expect(formatDateTime64(Date.UTC(2026, 0, 31, 12, 30, 5, 7)), 'DateTime64(3) text').toBe(
      '2026-01-31 12:30:05.007',
    );
  });

  it('refuses values outside DateTime64 range and non-integers', () => {
    expect(formatDateTime64(Date.UTC(1899, 11, 31)), 'before 1900').toBeNull();
    expect(formatDateTime64(Date.UTC(2300, 0, 1)), 'after 2299').toBeNull();
    expect(formatDateTime64(1.5), 'fractional ms').toBeNull();
    expect(formatDateTime64(Number.NaN), 'NaN').toBeNull();
  });
});

describe('toExposureRow', () => {
  it('maps every field and adds the Kafka position', () => {
    expect(toExposureRow(exposure, at)).toEqual({
      ok: true,
      row: {
        project: 'shop',
        experiment: 'checkout',
        unit: 'u-1',
        variation: 'treatment',
        first_exposure_at: '2026-01-31 12:30:05.007',
        multiple_exposure: false,
        dimensions: { country: 'DE', seats: '3' },
        sign: 1,
        src_partition: 3,
        src_offset: 41,
      },
    });
  });

  it('reads a record written before exposures had dimensions as one without any', () => {
    const { dimensions: _none, ...old } = exposure;
    const read = toExposureRow(old, at);
    expect(read.ok && read.row.dimensions).toEqual({});
  });

  it('accepts a Date for the timestamp (avsc with a logical-type hook)', () => {
    const read = toExposureRow({ ...exposure, first_exposure_at: new Date(exposure.first_exposure_at) }, at);
    expect(read.ok && read.row.first_exposure_at, 'Date read as its instant').toBe('2026-01-31 12:30:05.007');
  });

  it.each([
    ['a sign other than ±1', { ...exposure, sign: 2 }, 'sign must be +1 or -1'],
    ['a missing unit', { ...exposure, unit: undefined }, 'unit must be a string'],
    ['a non-boolean flag', { ...exposure, multiple_exposure: 'no' }, 'multiple_exposure must be a boolean'],
    [
      'a dimension value that is not a string',
      { ...exposure, dimensions: { seats: 3 } },
      'dimensions must be a map of strings',
    ],
    [
      'a timestamp out of range',
      { ...exposure, first_exposure_at: -1e15 },
      'first_exposure_at must be unix ms within 1900-2299',
    ],
  ])('refuses %s with a reason', (_name, value, reason) => {
    expect(toExposureRow(value, at)).toEqual({ ok: false, reason });
  });

  it('refuses a value that is not a record', () => {
    expect(toExposureRow(null, at)).toEqual({ ok: false, reason: 'not a record' });
    expect(toExposureRow([exposure], at)).toEqual({ ok: false, reason: 'not a record' });
  });
});

describe('toAttributedRow', () => {
  it('maps every field, keeping the sign and a null value', () => {
    expect(toAttributedRow({ ...attributed, value: null }, at)).toEqual({
      ok: true,
      row: {
        project: 'shop',
        experiment: 'checkout',
        unit: 'u-1',
        variation: 'treatment',
        event_id: 'ev-9',
        event: 'purchase',
        timestamp: '2026-02-01 00:00:00.000',
        weight: 2,
        value: null,
        sign: -1,
        src_partition: 3,
        src_offset: 41,
      },
    });
  });

  it('treats an absent value like null (absent union branch)', () => {
    const { value: _dropped, ...withoutValue } = attributed;
    const read = toAttributedRow(withoutValue, at);
    expect(read.ok && read.row.value, 'absent value stored as NULL').toBeNull();
  });

  it.each([
    ['a zero weight', { ...attributed, weight: 0 }, 'weight must be a positive finite number'],
    [
      'an infinite value',
      { ...attributed, value: Number.POSITIVE_INFINITY },
      'value must be a finite number or null',
    ],
    ['a numeric event name', { ...attributed, event: 7 }, 'event must be a string'],
  ])('refuses %s with a reason', (_name, value, reason) => {
    expect(toAttributedRow(value, at)).toEqual({ ok: false, reason });
  });
});

const covariate = {
  project: 'shop',
  experiment: 'checkout',
  unit: 'u-1',
  variation: 'treatment',
  first_exposure_at: Date.UTC(2026, 1, 10, 8, 0, 0, 250),
  event_id: 'ev-3',
  event: 'purchase',
  timestamp: Date.UTC(2026, 1, 3, 23, 59, 59, 999),
  weight: 4,
  value: 12.25,
  sign: 1,
};

describe('toCovariateRow', () => {
  it('maps every field, first_exposure_at included, and adds the Kafka position', () => {
    expect(toCovariateRow(covariate, at)).toEqual({
      ok: true,
      row: {
        project: 'shop',
        experiment: 'checkout',
        unit: 'u-1',
        variation: 'treatment',
        first_exposure_at: '2026-02-10 08:00:00.250',
        event_id: 'ev-3',
        event: 'purchase',
        timestamp: '2026-02-03 23:59:59.999',
        weight: 4,
        value: 12.25,
        sign: 1,
        src_partition: 3,
        src_offset: 41,
      },
    });
  });

  it('keeps a retraction and an absent value as they are', () => {
    const { value: _dropped, ...withoutValue } = covariate;
    const read = toCovariateRow({ ...withoutValue, sign: -1 }, at);
    expect(read.ok && [read.row.sign, read.row.value], 'sign −1, value NULL').toEqual([-1, null]);
  });

  it.each([
    [
      'a missing first exposure',
      { ...covariate, first_exposure_at: undefined },
      'first_exposure_at must be unix ms within 1900-2299',
    ],
    [
      'a first exposure out of range',
      { ...covariate, first_exposure_at: 1e16 },
      'first_exposure_at must be unix ms within 1900-2299',
    ],
    ['a negative weight', { ...covariate, weight: -1 }, 'weight must be a positive finite number'],
    ['a sign of 0', { ...covariate, sign: 0 }, 'sign must be +1 or -1'],
    ['a missing event id', { ...covariate, event_id: null }, 'event_id must be a string'],
  ])('refuses %s with a reason', (_name, value, reason) => {
    expect(toCovariateRow(value, at)).toEqual({ ok: false, reason });
  });

  it('refuses a value that is not a record', () => {
    expect(toCovariateRow('purchase', at)).toEqual({ ok: false, reason: 'not a record' });
  });
});

describe('ROW_READERS', () => {
  it('reads each table from the records of its own topic', () => {
    const records = { exposures: exposure, attributed, covariates: covariate };
    for (const table of SINK_TABLES) {
      const read = ROW_READERS[table](records[table], at);
      expect(read.ok, `${table} reads its record`).toBe(true);
    }
    expect(ROW_READERS.covariates(attributed, at), 'an attributed record is not a covariate row').toEqual({
      ok: false,
      reason: 'first_exposure_at must be unix ms within 1900-2299',
    });
  });

  it('names every table after a topic of the processor', () => {
    const names = topicNames('p.');
    expect(SINK_TABLES.map((table) => names[table])).toEqual(['p.exposures', 'p.attributed', 'p.covariates']);
  });
});

describe('insertDedupToken', () => {
  it('names the topic, partition and offset range of the insert', () => {
    expect(insertDedupToken('liftstream.attributed', 2, 100, 199)).toBe('liftstream.attributed:2:100-199');
  });
});
