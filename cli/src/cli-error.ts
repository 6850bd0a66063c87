/** Exit codes, documented in cli/README.md: scripts may branch on them. */
export const EXIT = {
  ok: 0,
  /**
   * The command was understood but could not be done: unreadable or invalid file, unknown project, a
   * missing or bad environment variable, or the API refused the request (401, 403, 404, 400, 500).
   */
  failure: 1,
  /** The command line itself is wrong: unknown command or option, missing or malformed value. */
  usage: 2,
  /**
   * The server could not be reached, did not answer in time or answered 503: the same command may work
   * later (nothing was changed by trying).
   */
  unavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can fix; its message is the one line printed after "liftstream: ". */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage error pointing at the help of `command` ("keys create", or "" for the top level). */
export function usageError(message: string, command: string): CliError {
  return new CliError(EXIT.usage, `${message}; see liftstream ${command ? `${command} ` : ''}--help`);
}

export function failure(message: string, cause?: unknown): CliError {
  return new CliError(EXIT.failure, message, { cause });
}

export function unavailable(message: string, cause?: unknown): CliError {
  return new CliError(EXIT.unavailable, message, { cause });
}
