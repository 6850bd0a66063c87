import { describe, expect, it } from 'vitest';
import { causeChain, errorChain, hasInfraCode, LiftstreamError } from '../../shared/errors.ts';

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

describe('causeChain and errorChain', () => {
  it('walks every object along the cause links, outermost first; errorChain stops at the first non-Error', () => {
    const status = { status: 404 };
    const inner = new Error('inner', { cause: status });
    const outer = new LiftstreamError('REGISTRY_UNAVAILABLE', 'outer', { cause: inner });
    expect(causeChain(outer)).toEqual([outer, inner, status]);
    expect(errorChain(outer)).toEqual([outer, inner]);
    expect(errorChain(new Error('top', { cause: { cause: new Error('hidden') } }))).toHaveLength(1);
    expect(causeChain('text')).toEqual([]);
    expect(causeChain(null)).toEqual([]);
  });

  it('ends at a link back to an earlier error instead of walking forever', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(causeChain(a)).toEqual([a, b]);
  });
});
