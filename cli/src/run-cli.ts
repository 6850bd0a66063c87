import { CliError, EXIT, usageError, type ExitCode } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { closestName } from './closest-name.ts';
import type { Command } from './command.ts';
import { experiments } from './experiments.ts';
import { keysCreate } from './keys-create.ts';
import { projectsInit } from './projects-init.ts';
import { results } from './results.ts';
import { tail } from './tail.ts';

/** Every command, in the order `liftstream --help` lists them. */
export const commands: readonly Command[] = [projectsInit, keysCreate, experiments, results, tail];

export const topHelp = `Usage: liftstream <command> [options]

Manages a liftstream projects file (PROJECTS_FILE) and its API keys, shows experiments and their
results from the stats API (read key in LIFTSTREAM_READ_KEY), and follows the events the gateway
accepts (tail, straight from Kafka).

Commands:
${commands.map((c) => `  ${c.name.padEnd(15)}${c.summary}`).join('\n')}

Options:
  -h, --help     show this help; after a command, that command's help

Exit codes: 0 done; 1 failed (file unreadable, invalid or existing, unknown project, a missing or bad
environment variable, the API refused the request), nothing written; 2 usage error (unknown command or
option, missing or bad value); 3 unavailable (server or broker unreachable, no answer in time, 503):
trying again later may work.`;

/**
 * Runs one command line and returns its exit code; output goes to `io`. Every failure is one line on
 * stderr, "liftstream: <what is wrong and how to fix it>", never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  try {
    await dispatch([...argv], io);
    return EXIT.ok;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.err(`liftstream: ${message.replace(/\s*\n\s*/g, ' ')}`);
    // Anything else is the catalog loader's LiftstreamError (a file is wrong) or an I/O error: a failure.
    return err instanceof CliError ? err.exitCode : EXIT.failure;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [group, action, ...args] = argv;
  if (group === undefined) throw usageError('missing command', '');
  if (isHelp(group)) return io.out(topHelp);
  if (group.startsWith('-')) throw usageError(`unknown option ${group}`, '');
  const single = commands.find((c) => c.name === group);
  if (single) return runCommand(single, argv.slice(1), io);

  const names = commands.map((c) => c.name);
  const groups = [...new Set(names.map((n) => n.split(' ')[0] ?? n))];
  if (!groups.includes(group)) {
    const guess = closestName(group, groups);
    throw usageError(`unknown command "${group}"${guess ? ` (did you mean "${guess}"?)` : ''}`, '');
  }
  const inGroup = names.filter((n) => n.startsWith(`${group} `));
  if (action === undefined || isHelp(action)) {
    if (action !== undefined) return io.out(topHelp);
    throw usageError(`"${group}" needs a command: ${inGroup.join(', ')}`, '');
  }
  const command = commands.find((c) => c.name === `${group} ${action}`);
  if (!command) {
    const guess = closestName(
      action,
      inGroup.map((n) => n.slice(group.length + 1)),
    );
    const hint = guess ? `did you mean "${group} ${guess}"?` : `commands: ${inGroup.join(', ')}`;
    throw usageError(`unknown command "${group} ${action}" (${hint})`, '');
  }
  return runCommand(command, args, io);
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<void> {
  // Help wins over everything else on the line, so a half-typed command can still ask for it.
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some(isHelp)) return io.out(command.help);
  await command.run(args, io);
}

function isHelp(arg: string): boolean {
  return arg === '--help' || arg === '-h';
}
