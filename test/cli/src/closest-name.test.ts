import { describe, expect, it } from 'vitest';
import { closestName } from '../../../cli/src/closest-name.ts';

describe('closest name', () => {
  it('suggests the option one or two edits away', () => {
    expect(closestName('rol', ['project', 'role', 'projects-file'])).toBe('role');
    expect(closestName('projet', ['project', 'role'])).toBe('project');
    expect(closestName('key', ['projects', 'keys'])).toBe('keys');
  });

  it('suggests nothing for a name unlike every candidate', () => {
    expect(
      closestName('x', ['project', 'role']),
      'a short name is not "close" to everything',
    ).toBeUndefined();
    expect(closestName('verbose', ['project', 'role'])).toBeUndefined();
  });
});
