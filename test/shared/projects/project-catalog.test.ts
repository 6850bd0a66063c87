import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  loadProjectCatalog,
  parseProjectCatalog,
  sha256Hex,
} from '../../../shared/projects/project-catalog.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

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

  describe('a malformed key: one line naming the file, project, key, field, rule and fix', () => {
    const withKey = (key: unknown) => ({ projects: [{ id: 'shop', keys: [key] }] });
    const messageOf = (json: unknown): string => {
      try {
        parseProjectCatalog(json, 'projects.json');
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected the catalog to be refused');
    };

    it.each([
      [
        'a 63-character digest',
        { role: 'write', sha256: 'a'.repeat(63) },
        '"sha256"',
        /64 characters\), got 63 characters/,
      ],
      ['a missing role', { sha256: 'a'.repeat(64) }, '"role"', /missing; must be "write" .* or "read"/],
      [
        'role "admin"',
        { role: 'admin', sha256: 'a'.repeat(64) },
        '"role"',
        /must be "write" .* or "read" .*, got "admin"/,
      ],
    ])('%s', (_, key, field, rule) => {
      const message = messageOf(withKey(key));
      expect(message, 'one line').not.toContain('\n');
      expect(message).toContain('projects.json');
      expect(message).toContain(`project "shop", key 0, ${field}`);
      expect(message).toMatch(rule);
      expect(message).toContain('liftstream keys create --project shop');
    });

    it('names the file it was loaded from', () => {
      const file = path.join(tempDir(), 'projects.json');
      fs.writeFileSync(file, JSON.stringify(withKey({ role: 'read' })));
      expect(() => loadProjectCatalog(file)).toThrow(
        `Invalid project catalog ${file}: project "shop", key 0, "sha256"`,
      );
    });

    it('keys that are not a list', () => {
      const message = messageOf({ projects: [{ id: 'shop', keys: 'abc' }] });
      expect(message).toContain('project "shop", "keys" (projects.0.keys): must be a list');
      expect(message).toContain('liftstream keys create');
    });

    it('shows the length of a bad digest, never its value (it may be a key pasted in clear)', () => {
      const message = messageOf(withKey({ role: 'write', sha256: 'lsw_secretsecretsecret' }));
      expect(message).not.toContain('secret');
      expect(message).toContain('got 22 characters');
    });

    it('names a project with a bad id by its index', () => {
      expect(messageOf({ projects: [{ id: 'Bad Id', keys: [] }] })).toMatch(
        /project #0, "id" \(projects\.0\.id\): must be lowercase letters/,
      );
    });
  });
});
