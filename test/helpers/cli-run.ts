import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../infra/local/paths.ts';
import { runCli } from '../../cli/src/run-cli.ts';

export const tsxPath = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
export const cliMain = path.join(repoRoot, 'cli', 'src', 'main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One `liftstream` command line run in this process, in directory `cwd`; `env` is all the environment
 * it sees (none by default: LIFTSTREAM_URL, LIFTSTREAM_READ_KEY, ... come only from the test).
 */
export async function runCliInProcess(
  argv: string[],
  cwd: string,
  projectsFile?: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    cwd,
    projectsFile,
    env,
  });
  return { code, stdout, stderr };
}

/**
 * One `liftstream` command line as a real process (tsx cli/src/main.ts), in directory `cwd`, with this
 * process's environment plus `env`.
 */
export function runCliProcess(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(tsxPath, [cliMain, ...argv], { cwd, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
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
