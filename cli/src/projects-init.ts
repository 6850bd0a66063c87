import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { generateApiKey } from '../../shared/projects/api-key.ts';
import { parseProjectCatalog } from '../../shared/projects/project-catalog.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { catalogText, starterCatalog } from './catalog-edit.ts';
import { failure } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import type { Command } from './command.ts';
import { projectIdOption } from './option-values.ts';
import { parseCommandArgs } from './parse-command-args.ts';

const name = 'projects init';

const options = {
  project: { type: 'string', default: 'demo' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

const help = `Usage: liftstream projects init [--project ID] [--out PATH] [--force]

Writes a starter projects file (PROJECTS_FILE of every service): one project, attribution
cumulative, with a new write key and a new read key. Prints both keys once: the file keeps only
their SHA-256 digests, so store them now.

Options:
  --project ID   the project's id (default: demo); lowercase letters, digits, _ and -, at most 64,
                 not starting with _ or -
  --out PATH     the file to write (default: $PROJECTS_FILE if set, else ./projects.json); its
                 directory must exist
  --force        replace PATH if it exists (the keys in it stop working)
  -h, --help     show this help`;

export const projectsInit: Command = {
  name,
  summary: 'write a starter projects file: one project, a write key and a read key',
  help,
  run,
};

function run(args: string[], io: CliIo): void {
  const values = parseCommandArgs(name, args, options);
  const project = projectIdOption(values.project, name);
  const out = values.out ?? io.projectsFile ?? 'projects.json';
  const file = path.resolve(io.cwd, out);
  const dir = path.dirname(file);
  if (!isDirectory(dir)) {
    throw failure(`directory ${path.dirname(out)} does not exist; create it or choose another --out`);
  }
  if (isDirectory(file))
    throw failure(`${out} is a directory; give --out a file path such as ${path.join(out, 'projects.json')}`);
  const exists = `${out} already exists; pass --force to replace it (the keys in it stop working)`;
  if (!values.force && fs.existsSync(file)) throw failure(exists);

  const write = generateApiKey('write');
  const read = generateApiKey('read');
  const json = starterCatalog(project, [write.entry, read.entry]);
  parseProjectCatalog(json, out); // what is written is what the services accept
  try {
    writeFileAtomic(file, catalogText(json), { replace: values.force });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw failure(exists, err);
    throw failure(`cannot write ${out}: ${(err as Error).message}`, err);
  }

  io.out(
    `Wrote ${out}: project "${project}" (attribution cumulative) with a write key and a read key.\n` +
      'The keys are shown only this once: store them now (the file keeps only their digests).\n\n' +
      `  write key  ${write.key}\n` +
      `  read key   ${read.key}\n\n` +
      `Start the services with PROJECTS_FILE=${out}`,
  );
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
