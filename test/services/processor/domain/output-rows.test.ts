import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type {
  AttributedEventRecord,
  CovariateEventRecord,
  UnitExposureRecord,
} from '../../../../services/processor/src/domain/output-rows.ts';

function schemaFields(file: string): string[] {
  const schema = JSON.parse(
    readFileSync(new URL(`../../../../schemas/${file}`, import.meta.url), 'utf8'),
  ) as {
    fields: { name: string }[];
  };
  return schema.fields.map((f) => f.name).sort();
}

// A fully populated record of each type: the compiler checks the fields exist with these
// types, this test checks they are exactly the schema's fields.
const exposureRecord: Required<UnitExposureRecord> = {
  project: 'p',
  experiment: 'e',
  unit: 'u',
  variation: 'A',
  first_exposure_at: 1,
  multiple_exposure: false,
  dimensions: { country: 'DE' },
  sign: 1,
};
const attributedRecord: Required<AttributedEventRecord> = {
  project: 'p',
  experiment: 'e',
  unit: 'u',
  variation: 'A',
  event_id: 't',
  event: 'buy',
  timestamp: 1,
  weight: 1,
  value: null,
  sign: -1,
};

const covariateRecord: Required<CovariateEventRecord> = {
  project: 'p',
  experiment: 'e',
  unit: 'u',
  variation: 'A',
  first_exposure_at: 2,
  event_id: 't',
  event: 'buy',
  timestamp: 1,
  weight: 1,
  value: 3.5,
  sign: 1,
};

describe('output row types', () => {
  it('have exactly the fields of unit-exposure.avsc', () => {
    expect(Object.keys(exposureRecord).sort()).toEqual(schemaFields('unit-exposure.avsc'));
  });

  it('have exactly the fields of attributed-event.avsc', () => {
    expect(Object.keys(attributedRecord).sort()).toEqual(schemaFields('attributed-event.avsc'));
  });

  it('have exactly the fields of covariate-event.avsc', () => {
    expect(Object.keys(covariateRecord).sort()).toEqual(schemaFields('covariate-event.avsc'));
  });
});
