#!/usr/bin/env node
/**
 * The `liftstream` command (package.json "bin"; from a checkout: npm run liftstream -- <command>).
 * Commands and exit codes: cli/README.md, or liftstream --help.
 */
import { colorWanted } from './cli-io.ts';
import { runCli } from './run-cli.ts';

// `liftstream tail | head`: the reader went away, which ends the command, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

let stop: AbortController | undefined;
/** SIGINT/SIGTERM abort the command that asked for this (tail); a second signal ends the process at once. */
function stopSignal(): AbortSignal {
  if (stop === undefined) {
    const controller = new AbortController();
    stop = controller;
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return stop.signal;
}

void runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  cwd: process.cwd(),
  // The compose `cli` service sets it to the catalog the services read, so `projects init` needs no --out.
  projectsFile: process.env['PROJECTS_FILE'] || undefined,
  env: process.env,
  color: colorWanted(process.stdout.isTTY, process.env),
  stopSignal,
}).then((code) => {
  process.exitCode = code;
  // The command is done: a client's idle socket or timer (kafkajs, the registry's HTTP agent) must not
  // keep the process up. Unref'd, so a process with nothing left exits at once, as usual.
  setTimeout(() => process.exit(code), 1_000).unref();
});
