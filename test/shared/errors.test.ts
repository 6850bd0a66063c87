import { describe, expect, it } from 'vitest';
import { hasInfraCode, LiftstreamError } from '../../shared/errors.ts';

describe('hasInfraCode', () => {
  it('matches a LiftstreamError or any object with one of the codes, and nothing else', () => {
    expect(hasInfraCode(new LiftstreamError('STATE_STORAGE', 'x'), 'STATE_CORRUPT', 'STATE_STORAGE')).toBe(
      true,
    );
    expect(hasInfraCode({ code: 'STATE_CORRUPT' }, 'STATE_CORRUPT')).toBe(true);
    expect(hasInfraCode(new LiftstreamError('KAFKA_UNAVAILABLE', 'x'), 'STATE_STORAGE')).toBe(false);
    expect(hasInfraCode(Object.assign(new Error('disk'), { code: 'ENOSPC' }), 'STATE_STORAGE')).toBe(false);
    expect(hasInfraCode(null, 'STATE_STORAGE')).toBe(false);
    expect(hasInfraCode(undefined, 'STATE_STORAGE')).toBe(false);
  });
});
