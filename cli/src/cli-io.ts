/** Where a command writes and which directory relative paths start from: a process, or a test. */
export interface CliIo {
  /** Results and help, to stdout. */
  out(text: string): void;
  /** The one-line error, to stderr (and `tail`'s progress notes, which must stay out of its output). */
  err(text: string): void;
  cwd: string;
  /** PROJECTS_FILE of the environment: where `projects init` writes when --out is not given. */
  projectsFile?: string | undefined;
  /**
   * The environment the commands read: LIFTSTREAM_URL, LIFTSTREAM_READ_KEY, and tail's KAFKA_BROKERS,
   * SCHEMA_REGISTRY_URL, TOPIC_PREFIX. Absent: none set.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdout may carry ANSI colours: a terminal, and NO_COLOR unset (see `colorWanted`). */
  color?: boolean;
  /**
   * For a command that runs until stopped (`tail`): a signal aborted on SIGINT or SIGTERM. Asking for it
   * takes those signals over; until then they end the process as usual.
   */
  stopSignal?: () => AbortSignal;
}

/** https://no-color.org: colour only on a terminal, and never when NO_COLOR is set to anything non-empty. */
export function colorWanted(isTty: boolean | undefined, env: Readonly<Record<string, string | undefined>>) {
  return isTty === true && !env['NO_COLOR'];
}
