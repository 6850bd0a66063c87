import { describe, expect, it } from 'vitest';
import { colorWanted } from '../../../cli/src/cli-io.ts';

describe('colour', () => {
  it('only on a terminal, and never when NO_COLOR is set to anything', () => {
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(false, {}), 'a pipe or a file').toBe(false);
    expect(colorWanted(undefined, {})).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { NO_COLOR: '' }), 'an empty NO_COLOR is unset (no-color.org)').toBe(true);
  });
});
