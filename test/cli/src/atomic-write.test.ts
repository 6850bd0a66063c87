import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../cli/src/atomic-write.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

describe('atomic file write', () => {
  it('writes a new file and leaves no temp file behind', () => {
    const dir = tempDir();
    writeFileAtomic(path.join(dir, 'p.json'), 'new', { replace: false });
    expect(fs.readFileSync(path.join(dir, 'p.json'), 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['p.json']);
  });

  it('without replace, refuses an existing file and keeps it as it was', () => {
    const dir = tempDir();
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, 'old');
    expect(() => writeFileAtomic(file, 'new', { replace: false })).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir), 'no temp file left').toEqual(['p.json']);
  });

  it('with replace, swaps the content and sets the mode asked for', () => {
    const dir = tempDir();
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, 'old');
    writeFileAtomic(file, 'new', { replace: true, mode: 0o640 });
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir)).toEqual(['p.json']);
  });

  it('fails with ENOENT for a missing directory', () => {
    expect(() => writeFileAtomic(path.join(tempDir(), 'no', 'p.json'), 'x', { replace: true })).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});
