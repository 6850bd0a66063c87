import { describe, expect, it } from 'vitest';
import {
  DROP_REASONS,
  REJECTION_CODES,
  VALIDATION_CODES,
  WARNING_CODES,
  isRejection,
  reject,
} from '../../../../services/gateway/src/validation/errors.ts';

describe('validation code catalogue', () => {
  it('gives every code a one-line meaning', () => {
    for (const [code, entry] of Object.entries(VALIDATION_CODES)) {
      expect(entry.meaning.length, code).toBeGreaterThan(20);
      expect(entry.meaning, code).not.toContain('\n');
    }
  });

  it('uses snake_case codes', () => {
    for (const code of Object.keys(VALIDATION_CODES)) expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('derives the outcome lists from the catalogue', () => {
    expect(DROP_REASONS).toEqual(['bot']);
    expect(WARNING_CODES).toEqual([
      'schema_violation',
      'unknown_field',
      'undefined_event',
      'null_property',
      'context_value_dropped',
    ]);
    expect(REJECTION_CODES).toContain('pii_email');
    expect(REJECTION_CODES).toContain('schema_violation');
    expect(REJECTION_CODES).not.toContain('bot');
  });

  it('files every code under at least one outcome', () => {
    const listed = new Set<string>([...REJECTION_CODES, ...DROP_REASONS, ...WARNING_CODES]);
    expect([...listed].sort()).toEqual(Object.keys(VALIDATION_CODES).sort());
  });
});

describe('isRejection', () => {
  it('recognises a rejection built by reject()', () => {
    expect(isRejection(reject('invalid_type', 'x', 'x must be a string'))).toBe(true);
  });

  it("does not mistake a producer's map holding status: 'rejected' for a rejection", () => {
    expect(isRejection({ status: 'rejected', code: 'invalid_type', field: '', message: '' })).toBe(false);
  });
});
