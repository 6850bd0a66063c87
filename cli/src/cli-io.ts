/** Where a command writes and which directory relative paths start from: a process, or a test. */
export interface CliIo {
  /** Results and help, to stdout. */
  out(text: string): void;
  /** The one-line error, to stderr. */
  err(text: string): void;
  cwd: string;
  /** PROJECTS_FILE of the environment: where `projects init` writes when --out is not given. */
  projectsFile?: string | undefined;
}
