import { describe, expect, it } from 'vitest';
import { addKeyToCatalog, catalogText, starterCatalog } from '../../../cli/src/catalog-edit.ts';
import { parseProjectCatalog } from '../../../shared/projects/project-catalog.ts';

const digest = (c: string) => c.repeat(64);
const catalog = {
  projects: [
    {
      id: 'shop',
      attribution: 'decision',
      keys: [{ role: 'write', sha256: digest('a') }],
      expectedSplit: { x: { a: 1 } },
    },
    { id: 'blog', keys: [{ role: 'read', sha256: digest('b') }], eventDefinitions: { purchase: {} } },
  ],
  comment: 'kept',
};

describe('catalog editing', () => {
  it('appends the entry to the named project and keeps every other field', () => {
    const edit = addKeyToCatalog(catalog, 'blog', { role: 'write', sha256: digest('c') });
    expect(edit.ok).toBe(true);
    if (!edit.ok) return;
    const expected = structuredClone(catalog);
    expected.projects[1]?.keys.push({ role: 'write', sha256: digest('c') });
    expect(edit.json).toEqual(expected);
  });

  it('leaves its input alone', () => {
    const before = structuredClone(catalog);
    addKeyToCatalog(catalog, 'shop', { role: 'read', sha256: digest('d') });
    expect(catalog).toEqual(before);
  });

  it('names a missing project and lists the existing ones', () => {
    expect(addKeyToCatalog(catalog, 'shpo', { role: 'read', sha256: digest('d') })).toEqual({
      ok: false,
      reason: 'it has no project "shpo"; its projects: shop, blog',
    });
  });

  it('reports JSON without a projects list instead of guessing', () => {
    expect(addKeyToCatalog([], 'shop', { role: 'read', sha256: digest('d') }).ok).toBe(false);
  });

  it('makes a starter catalog the loader accepts, with cumulative attribution', () => {
    const json = starterCatalog('demo', [
      { role: 'write', sha256: digest('e') },
      { role: 'read', sha256: digest('f') },
    ]);
    const project = parseProjectCatalog(json).project('demo');
    expect(project?.attribution).toBe('cumulative');
    expect(project?.keys.map((k) => k.role)).toEqual(['write', 'read']);
  });

  it('writes 2-space JSON with a final newline', () => {
    expect(catalogText({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
