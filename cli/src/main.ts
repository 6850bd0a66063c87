#!/usr/bin/env node
/**
 * The `liftstream` command (package.json "bin"; from a checkout: npm run liftstream -- <command>).
 * Commands and exit codes: cli/README.md, or liftstream --help.
 */
import { runCli } from './run-cli.ts';

process.exitCode = runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  // The compose `cli` service sets it to the catalog the services read, so `projects init` needs no --out.
  projectsFile: process.env['PROJECTS_FILE'] || undefined,
});
