import { describe, expect, it } from 'vitest';
import { childPath, describeValue } from '../../../../services/gateway/src/validation/json-path.ts';

describe('childPath', () => {
  it.each([
    ['', 'user_id', 'user_id'],
    ['properties', 'plan', 'properties.plan'],
    ['properties', 'a.b', 'properties["a.b"]'],
    ['properties', '', 'properties[""]'],
    ['properties', 'say "hi"', 'properties["say \\"hi\\""]'],
    ['properties', '🎉', 'properties["🎉"]'],
    ['', 'sent-at', '["sent-at"]'],
  ])('%s + %s → %s', (parent, key, expected) => {
    expect(childPath(parent, key)).toBe(expected);
  });
});

describe('describeValue', () => {
  it('truncates long strings so messages stay short', () => {
    expect(describeValue('x'.repeat(1000)).length).toBeLessThanOrEqual(70);
  });
});
