import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../infra/local/paths.ts';
import { runCli } from '../../cli/src/run-cli.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One `liftstream` command line run in this process, in directory `cwd`. */
export function runCliInProcess(argv: string[], cwd: string, projectsFile?: string): CliResult {
  let stdout = '';
  let stderr = '';
  const code = runCli(argv, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    cwd,
    projectsFile,
  });
  return { code, stdout, stderr };
}

/** One `liftstream` command line as a real process (tsx cli/src/main.ts), in directory `cwd`. */
export function runCliProcess(argv: string[], cwd: string): Promise<CliResult> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  return new Promise((resolve, reject) => {
    execFile(tsx, [path.join(repoRoot, 'cli', 'src', 'main.ts'), ...argv], { cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : undefined) : 0;
      if (code === undefined) reject(err ?? new Error('no exit code'));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The API keys printed in `stdout`, in order. */
export function printedKeys(stdout: string): string[] {
  // Not \b at the end: a base64url key may end in '-', after which no word boundary comes.
  return stdout.match(/\bls[wrc]_[A-Za-z0-9_-]{24}(?![A-Za-z0-9_-])/g) ?? [];
}
