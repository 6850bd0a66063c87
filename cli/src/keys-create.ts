import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { generateApiKey, type NewApiKey } from '../../shared/projects/api-key.ts';
import { parseProjectCatalog, readProjectCatalogJson } from '../../shared/projects/project-catalog.ts';
import { addKeyToCatalog, catalogText } from './catalog-edit.ts';
import { failure } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import type { Command } from './command.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { projectIdOption, requiredOption, roleOption } from './option-values.ts';

const name = 'keys create';

const options = {
  project: { type: 'string' },
  role: { type: 'string' },
  'projects-file': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

const help = `Usage: liftstream keys create --project ID --role write|read|client [--projects-file PATH]

Makes a new random API key for project ID and prints it once: liftstream keeps only its SHA-256
digest, so store the key now. Then prints the catalog entry { "role", "sha256" } that belongs in the
project's "keys" in the projects file (PROJECTS_FILE), or adds it there with --projects-file.

Options:
  --project ID           the project the key is for (required)
  --role ROLE            (required) write: may send events to the gateway (a secret, for servers);
                         read: may query the stats API; client: may send events only, from web pages
                         of the project's "allowedOrigins" or servers (publishable: safe in a page)
  --projects-file PATH   add the entry to project ID in this file; the file must be a valid catalog
                         before, is validated again after, and is replaced atomically (never half-written)
  -h, --help             show this help

The services read the projects file at start-up: restart them to accept a new key.`;

const CLIENT_KEY_NOTE =
  '\nA client key may only send events, and is meant to be shipped in web pages. Browsers may use it\n' +
  'only from the origins listed in the project\'s "allowedOrigins" in the projects file.\n';

export const keysCreate: Command = {
  name,
  summary: 'make an API key for a project: print it once, with its catalog entry',
  help,
  run,
};

function run(args: string[], io: CliIo): void {
  const values = parseCommandArgs(name, args, options);
  const project = projectIdOption(requiredOption(values.project, 'project', name), name);
  const role = roleOption(values.role, name);
  const file = values['projects-file'];
  const newKey = generateApiKey(role);
  // The file first: a key printed but not added would be a key that never works.
  if (file !== undefined) addKeyToFile(file, path.resolve(io.cwd, file), project, newKey);

  const entry = `{ "role": "${newKey.entry.role}", "sha256": "${newKey.entry.sha256}" }`;
  const shown =
    `New ${role} key for project "${project}". It is shown only this once: store it now.\n\n  ${newKey.key}\n` +
    (role === 'client' ? CLIENT_KEY_NOTE : '');
  io.out(
    file === undefined
      ? `${shown}\nCatalog entry: add it to the "keys" of project "${project}" in the projects file:\n\n  ${entry}`
      : `${shown}\nAdded to project "${project}" in ${file}:\n\n  ${entry}\n\n` +
          'The services read this file at start-up: restart them to accept the key.',
  );
}

/**
 * Read, validate, add, validate again, write atomically. A file the services would refuse is not
 * edited (its error is reported as the loader words it), and the result must authenticate the new key.
 */
function addKeyToFile(display: string, resolved: string, project: string, newKey: NewApiKey): void {
  // A symlinked catalog (an ops checkout, a mounted config) is edited where it lives, not replaced by a copy.
  const target = fs.existsSync(resolved) ? fs.realpathSync(resolved) : resolved;
  const before = statOrUndefined(target);
  const json = readProjectCatalogJson(target, display);
  parseProjectCatalog(json, display);

  const edit = addKeyToCatalog(json, project, newKey.entry);
  if (!edit.ok) throw failure(`cannot add the key to ${display}: ${edit.reason}`);
  const principal = parseProjectCatalog(edit.json, display).authenticate(newKey.key);
  if (principal?.project.id !== project || principal.role !== newKey.entry.role) {
    throw failure(
      `the edited ${display} does not authenticate the new key; nothing written (a bug: please report it)`,
    );
  }

  // A read-modify-write: another edit in between would be lost. Not a lock, but it catches the usual case
  // (two people adding keys at once): the file changed since it was read.
  const now = statOrUndefined(target);
  if (
    !before ||
    !now ||
    now.mtimeMs !== before.mtimeMs ||
    now.size !== before.size ||
    now.ino !== before.ino
  ) {
    throw failure(`${display} changed while the key was being added; nothing written, run the command again`);
  }
  try {
    writeFileAtomic(target, catalogText(edit.json), { replace: true, mode: before.mode & 0o7777 });
  } catch (err) {
    throw failure(`cannot write ${display}: ${(err as Error).message}; the file is unchanged`, err);
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined; // reading it then reports why
  }
}
