import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { printedKeys, runCliInProcess } from '../../helpers/cli-run.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

describe('liftstream projects init', () => {
  it('writes ./projects.json with project demo, whose printed write and read keys authenticate', async () => {
    const dir = tempDir();
    const result = await runCliInProcess(['projects', 'init'], dir);
    expect(result.code, result.stderr).toBe(0);
    const [write, read, ...others] = printedKeys(result.stdout);
    expect(others, 'each key printed once').toEqual([]);
    const catalog = loadProjectCatalog(path.join(dir, 'projects.json'));
    expect(catalog.authenticate(write ?? '')).toMatchObject({
      project: { id: 'demo', attribution: 'cumulative' },
      role: 'write',
    });
    expect(catalog.authenticate(read ?? '')).toMatchObject({ project: { id: 'demo' }, role: 'read' });
    expect(fs.readFileSync(path.join(dir, 'projects.json'), 'utf8'), 'no key in clear').not.toMatch(
      /ls[wr]_/,
    );
  });

  it('takes the project id and the path', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'conf'));
    const result = await runCliInProcess(
      ['projects', 'init', '--project', 'shop', '--out', 'conf/p.json'],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(loadProjectCatalog(path.join(dir, 'conf', 'p.json')).project('shop')).toBeDefined();
    expect(result.stdout).toContain('PROJECTS_FILE=conf/p.json');
  });

  it('writes to PROJECTS_FILE when --out is not given (the compose cli service sets it), --out still wins', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'etc'));
    const result = await runCliInProcess(['projects', 'init'], dir, path.join(dir, 'etc', 'projects.json'));
    expect(result.code, result.stderr).toBe(0);
    expect(loadProjectCatalog(path.join(dir, 'etc', 'projects.json')).project('demo')).toBeDefined();
    expect(fs.existsSync(path.join(dir, 'projects.json'))).toBe(false);
    const explicit = await runCliInProcess(
      ['projects', 'init', '--out', 'mine.json'],
      dir,
      path.join(dir, 'etc', 'x.json'),
    );
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'mine.json'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'etc', 'x.json'))).toBe(false);
  });

  it('refuses to replace an existing file without --force, naming the file and the flag; replaces it with', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'projects.json');
    fs.writeFileSync(file, 'precious');
    expect(await runCliInProcess(['projects', 'init'], dir)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'liftstream: projects.json already exists; pass --force to replace it (the keys in it stop working)\n',
    });
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    expect((await runCliInProcess(['projects', 'init', '--force'], dir)).code).toBe(0);
    expect(loadProjectCatalog(file).project('demo')).toBeDefined();
  });

  it('refuses a missing directory, naming it, and creates nothing', async () => {
    const dir = tempDir();
    const result = await runCliInProcess(['projects', 'init', '--out', 'nope/projects.json'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'liftstream: directory nope does not exist; create it or choose another --out\n',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a directory as --out', async () => {
    const dir = tempDir();
    const result = await runCliInProcess(['projects', 'init', '--out', '.'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^liftstream: \. is a directory; give --out a file path/);
  });

  it('refuses a project id against the catalog rule, stating it, exit 2', async () => {
    const dir = tempDir();
    const result = await runCliInProcess(['projects', 'init', '--project', '_shop'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'liftstream: --project "_shop" is not a valid project id: lowercase letters, digits, _ and -, at most 64, not starting with _ or -; see liftstream projects init --help\n',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
