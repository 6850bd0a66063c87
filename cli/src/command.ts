import type { CliIo } from './cli-io.ts';

/** One subcommand: its name as typed, its help, and what it does with its own arguments. */
export interface Command {
  /** One or two words, as typed: "results", "keys create". */
  name: string;
  /** One line for `liftstream --help`. */
  summary: string;
  /** The whole `--help` text. */
  help: string;
  /** Throws CliError (or the catalog's LiftstreamError) on failure; returning (or resolving) means success. */
  run(args: string[], io: CliIo): void | Promise<void>;
}
