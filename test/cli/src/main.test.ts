import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, describe, it } from 'vitest';
import { loadProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { printedKeys, runCliProcess } from '../../helpers/cli-run.ts';

// Concurrent (each process takes ~0.5 s to start tsx), so not the shared tempDir helper: it removes
// every test's directory after each test.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-cli-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const tempDir = () => fs.mkdtempSync(path.join(root, 'case-'));

/** The real command (tsx cli/src/main.ts) as a process: exit codes, stdout and stderr as a shell sees them. */
describe.concurrent('liftstream as a process', () => {
  it('projects init, then keys create --projects-file: each printed key authenticates to its project and role', async ({
    expect,
  }) => {
    const dir = tempDir();
    const init = await runCliProcess(['projects', 'init', '--project', 'shop'], dir);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe('');
    const create = await runCliProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', 'projects.json'],
      dir,
    );
    expect(create.code, create.stderr).toBe(0);

    const [write, read] = printedKeys(init.stdout);
    const [added] = printedKeys(create.stdout);
    const text = fs.readFileSync(path.join(dir, 'projects.json'), 'utf8');
    const digests = (
      JSON.parse(text) as { projects: Array<{ keys: Array<{ sha256: string }> }> }
    ).projects[0]?.keys.map((k) => k.sha256);
    expect(digests, 'the digests written are the sha256 of the keys printed').toEqual(
      [write, read, added].map((k) => sha256Hex(k ?? '')),
    );
    const catalog = loadProjectCatalog(path.join(dir, 'projects.json'));
    expect(catalog.authenticate(write ?? '')).toMatchObject({ project: { id: 'shop' }, role: 'write' });
    expect(catalog.authenticate(added ?? '')).toMatchObject({ project: { id: 'shop' }, role: 'read' });
  });

  it('prints help to stdout, exit 0', async ({ expect }) => {
    const result = await runCliProcess(['keys', 'create', '--help'], tempDir());
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: liftstream keys create --project ID --role write\|read/);
  });

  it('a mistyped option: one line on stderr naming it and the command, exit 2', async ({ expect }) => {
    const result = await runCliProcess(['keys', 'create', '--project', 'shop', '--rol', 'write'], tempDir());
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'liftstream: unknown option --rol for "keys create" (did you mean --role?); see liftstream keys create --help\n',
    });
  });

  it('an unknown command: one line, exit 2', async ({ expect }) => {
    const result = await runCliProcess(['project', 'init'], tempDir());
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'liftstream: unknown command "project" (did you mean "projects"?); see liftstream --help\n',
    });
  });

  it('projects init on an existing file without --force: exit 1, file unchanged', async ({ expect }) => {
    const dir = tempDir();
    const file = path.join(dir, 'projects.json');
    expect((await runCliProcess(['projects', 'init'], dir)).code).toBe(0);
    const before = fs.readFileSync(file);
    const again = await runCliProcess(['projects', 'init'], dir);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'liftstream: projects.json already exists; pass --force to replace it (the keys in it stop working)\n',
    });
    expect(fs.readFileSync(file).equals(before), 'byte for byte').toBe(true);
  });

  it('keys create on a file with a malformed key: exit 1, one line naming the field, file byte for byte unchanged', async ({
    expect,
  }) => {
    const dir = tempDir();
    const file = path.join(dir, 'projects.json');
    const original = `{ "projects": [ { "id": "shop", "keys": [ { "sha256": "${'a'.repeat(64)}" } ] } ] }`;
    fs.writeFileSync(file, original);
    const result = await runCliProcess(
      ['keys', 'create', '--project', 'shop', '--role', 'read', '--projects-file', 'projects.json'],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stdout, 'no key printed').toBe('');
    expect(result.stderr.split('\n'), 'one line').toEqual([expect.any(String), '']);
    expect(result.stderr).toContain(
      'projects.json: project "shop", key 0, "role" (projects.0.keys.0.role): missing; must be "write"',
    );
    expect(result.stderr).toContain('liftstream keys create --project shop');
    expect(fs.readFileSync(file, 'utf8')).toBe(original);
    expect(fs.readdirSync(dir), 'no temp file').toEqual(['projects.json']);
  });
});
