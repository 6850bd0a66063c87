import { describe, expect, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';

const catalogJson = {
  projects: [
    {
      id: 'shop',
      keys: [
        { role: 'write', sha256: sha256Hex('shop-write') },
        { role: 'read', sha256: sha256Hex('shop-read') },
      ],
    },
    { id: 'blog', attribution: 'decision', keys: [{ role: 'write', sha256: sha256Hex('blog-write') }] },
  ],
};

describe('project catalog', () => {
  it('authenticates a key to its project and role', () => {
    const catalog = parseProjectCatalog(catalogJson);
    expect(catalog.authenticate('shop-write')).toMatchObject({ project: { id: 'shop' }, role: 'write' });
    expect(catalog.authenticate('shop-read')).toMatchObject({ project: { id: 'shop' }, role: 'read' });
    expect(catalog.authenticate('blog-write')?.project.attribution).toBe('decision');
  });

  it('rejects unknown, empty and absurdly long tokens', () => {
    const catalog = parseProjectCatalog(catalogJson);
    expect(catalog.authenticate('nope')).toBeUndefined();
    expect(catalog.authenticate('')).toBeUndefined();
    expect(catalog.authenticate('x'.repeat(10_000))).toBeUndefined();
  });

  it('defaults attribution to cumulative', () => {
    expect(parseProjectCatalog(catalogJson).project('shop')?.attribution).toBe('cumulative');
  });

  it('names the bad path when the file is malformed', () => {
    expect(() => parseProjectCatalog({ projects: [{ id: 'Bad Id', keys: [] }] })).toThrow(/projects\.0\.id/);
    expect(() =>
      parseProjectCatalog({ projects: [{ id: 'ok', keys: [{ role: 'admin', sha256: 'x' }] }] }),
    ).toThrow(/projects\.0\.keys\.0\.role/);
  });

  it('refuses a key shared by two projects (it would make isolation ambiguous)', () => {
    const digest = sha256Hex('same');
    expect(() =>
      parseProjectCatalog({
        projects: [
          { id: 'a', keys: [{ role: 'write', sha256: digest }] },
          { id: 'b', keys: [{ role: 'read', sha256: digest }] },
        ],
      }),
    ).toThrow(/also used/);
  });
});
