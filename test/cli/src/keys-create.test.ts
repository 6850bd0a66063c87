import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { printedKeys, runCliInProcess } from '../../helpers/cli-run.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const shopCatalog = {
  projects: [
    {
      id: 'shop',
      attribution: 'decision',
      keys: [{ role: 'write', sha256: 'a'.repeat(64) }],
      eventDefinitions: { x: 1 },
    },
    { id: 'blog', keys: [{ role: 'read', sha256: 'b'.repeat(64) }] },
  ],
};

function catalogDir(json: unknown = shopCatalog): { dir: string; file: string; text: string } {
  const dir = tempDir();
  const file = path.join(dir, 'projects.json');
  const text = JSON.stringify(json);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return { dir, file, text };
}

describe('liftstream keys create', () => {
  it('prints a new key once and the catalog entry with its digest', async () => {
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read'],
      tempDir(),
    );
    expect(result.code, result.stderr).toBe(0);
    const [key, ...others] = printedKeys(result.stdout);
    expect(key, 'a read key').toMatch(/^lsr_/);
    expect(others, 'the key is printed once').toEqual([]);
    expect(result.stdout).toContain('shown only this once');
    expect(result.stdout).toContain(`{ "role": "read", "sha256": "${sha256Hex(key ?? '')}" }`);
  });

  it('makes a client key (lsc_) and says where browsers may use it', async () => {
    const { dir, file } = catalogDir();
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'client', '--projects-file', 'projects.json'],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    const [key, ...others] = printedKeys(result.stdout);
    expect(key, 'a client key').toMatch(/^lsc_[A-Za-z0-9_-]{24}$/);
    expect(others, 'the key is printed once').toEqual([]);
    expect(result.stdout).toContain('"allowedOrigins"');
    expect(loadProjectCatalog(file).authenticate(key ?? '')).toMatchObject({
      role: 'client',
      project: { id: 'shop' },
    });
  });

  it('adds the key to the project in --projects-file: the file loads and the key authenticates there', async () => {
    const { dir, file } = catalogDir();
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'blog', '--role', 'write', '--projects-file', 'projects.json'],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    const [key] = printedKeys(result.stdout);
    const principal = loadProjectCatalog(file).authenticate(key ?? '');
    expect(principal?.project.id).toBe('blog');
    expect(principal?.role).toBe('write');
    expect(result.stdout).toContain(sha256Hex(key ?? ''));
  });

  it('keeps the rest of the file, writes it with 2-space indentation and keeps its mode', async () => {
    const { dir, file } = catalogDir();
    await runCliInProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', file],
      dir,
    );
    const text = fs.readFileSync(file, 'utf8');
    const json = JSON.parse(text) as typeof shopCatalog;
    expect(text).toBe(`${JSON.stringify(json, null, 2)}\n`);
    expect(json.projects[0]?.keys.slice(0, 1)).toEqual(shopCatalog.projects[0]?.keys);
    expect(json.projects[0]?.keys).toHaveLength(2);
    expect({ ...json.projects[0], keys: [] }).toEqual({ ...shopCatalog.projects[0], keys: [] });
    expect(json.projects[1]).toEqual(shopCatalog.projects[1]);
    expect(fs.statSync(file).mode & 0o777, 'mode kept').toBe(0o600);
    expect(fs.readdirSync(dir), 'no temp file left').toEqual(['projects.json']);
  });

  it('edits a symlinked projects file where it lives', async () => {
    const { dir, file } = catalogDir();
    fs.symlinkSync(file, path.join(dir, 'link.json'));
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', 'link.json'],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'link.json')).isSymbolicLink(), 'still a link').toBe(true);
    expect(loadProjectCatalog(file).authenticate(printedKeys(result.stdout)[0] ?? '')?.project.id).toBe(
      'shop',
    );
  });

  it('refuses a project the file does not have, naming it and the existing ones, file unchanged', async () => {
    const { dir, file, text } = catalogDir();
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'shpo', '--role', 'read', '--projects-file', 'projects.json'],
      dir,
    );
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'liftstream: cannot add the key to projects.json: it has no project "shpo"; its projects: shop, blog\n',
    });
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it("refuses a file the services would refuse, in the loader's words, file unchanged and no key printed", async () => {
    const { dir, file, text } = catalogDir({
      projects: [{ id: 'shop', keys: [{ role: 'write', sha256: 'a'.repeat(63) }] }],
    });
    const result = await runCliInProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', 'projects.json'],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^liftstream: Invalid project catalog projects\.json: project "shop", key 0, "sha256" .*64 characters.*\n$/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('reports an unreadable or non-JSON file, exit 1', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bad.json'), '{');
    for (const name of ['missing.json', 'bad.json']) {
      const result = await runCliInProcess(
        ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', name],
        dir,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^liftstream: Invalid project catalog ${name}: (cannot read|not valid JSON)`),
      );
    }
  });

  it('checks --project and --role before making anything, exit 2', async () => {
    const dir = tempDir();
    const cases: Array<[string[], RegExp]> = [
      [['--role', 'read'], /--project is required/],
      [['--project', 'shop'], /--role is required \(write, read or client\)/],
      [['--project', 'shop', '--role', 'admin'], /--role must be write, read or client, got "admin"/],
      [
        ['--project', 'Shop', '--role', 'read'],
        /--project "Shop" is not a valid project id: lowercase letters/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCliInProcess(['keys', 'create', ...args], dir);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });
});
