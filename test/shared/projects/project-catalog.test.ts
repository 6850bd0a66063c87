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
      [
        'a missing role',
        { sha256: 'a'.repeat(64) },
        '"role"',
        /missing; must be "write" .*, "read" .* or "client"/,
      ],
      [
        'role "admin"',
        { role: 'admin', sha256: 'a'.repeat(64) },
        '"role"',
        /must be "write" .*, "read" .* or "client" .*, got "admin"/,
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

describe('client keys, allowed origins and rate limits', () => {
  const project = (extra: Record<string, unknown>) => ({
    projects: [{ id: 'shop', keys: [{ role: 'client', sha256: sha256Hex('shop-client') }], ...extra }],
  });
  const messageOf = (json: unknown): string => {
    try {
      parseProjectCatalog(json, 'projects.json');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the catalog to be refused');
  };

  it('authenticates a client key with its role and a key id that is not the key', () => {
    const principal = parseProjectCatalog(project({})).authenticate('shop-client');
    expect(principal).toMatchObject({ role: 'client', keyId: sha256Hex('shop-client').slice(0, 16) });
  });

  it('defaults allowedOrigins to none and rateLimits to the gateway defaults', () => {
    expect(parseProjectCatalog(project({})).project('shop')).toMatchObject({
      allowedOrigins: [],
      rateLimits: {},
    });
  });

  it('keeps valid origins and limits', () => {
    const settings = parseProjectCatalog(
      project({
        allowedOrigins: ['https://shop.example', 'http://127.0.0.1:5173', 'https://*.shop.example'],
        rateLimits: { client: { perSecond: 0.5, burst: 10 }, write: { perSecond: 1000, burst: 2000 } },
      }),
    ).project('shop');
    expect(settings?.allowedOrigins).toHaveLength(3);
    expect(settings?.rateLimits.client).toEqual({ perSecond: 0.5, burst: 10 });
  });

  it('names the project, the entry and the canonical form of a misspelt origin', () => {
    expect(messageOf(project({ allowedOrigins: ['https://shop.example/'] }))).toMatch(
      /project "shop", "allowedOrigins.0" \(projects.0.allowedOrigins.0\): "https:\/\/shop.example\/" is not an origin .*did you mean "https:\/\/shop.example"\?/,
    );
  });

  it('refuses "*"', () => {
    expect(messageOf(project({ allowedOrigins: ['*'] }))).toMatch(/would let any page send events/);
  });

  it.each([
    [
      { client: { perSecond: 0, burst: 1 } },
      /"rateLimits.client.perSecond".*must be a number of requests per second > 0, got number 0/,
    ],
    [
      { client: { perSecond: 1, burst: 1.5 } },
      /"rateLimits.client.burst".*must be a whole number of requests >= 1/,
    ],
    [{ client: { perSecond: 1 } }, /"rateLimits.client.burst".*missing/],
    [{ read: { perSecond: 1, burst: 1 } }, /only "client" and "write" keys are rate-limited .*not "read"/],
    [{ client: { perSecond: 1, burst: 1, window: 3 } }, /"rateLimits.client"/],
  ])('refuses rate limits %j naming the field and the rule', (rateLimits, message) => {
    expect(messageOf(project({ rateLimits }))).toMatch(message);
  });

  it('lists the client role in the role rule', () => {
    expect(
      messageOf({ projects: [{ id: 'shop', keys: [{ role: 'admin', sha256: 'a'.repeat(64) }] }] }),
    ).toMatch(/"client" \(may ingest from web pages; publishable\), got "admin".*--role write\|read\|client/);
  });
});
