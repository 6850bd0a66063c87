/**
 * The compose file as Compose itself resolves it: `docker-compose config` (Debian's docker-compose, a
 * real Compose implementation that needs no engine) interpolates variables, applies the `.env` file and
 * YAML merges, and refuses a missing required variable the way `docker compose up` would.
 * .ci/run installs it; elsewhere: `apt-get install docker-compose`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

export interface ResolvedService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: Array<{ target: number; published?: number | string; host_ip?: string } | string>;
  profiles?: string[];
  user?: string;
  init?: boolean;
  stop_grace_period?: string;
  volumes?: string[];
  healthcheck?: unknown;
  restart?: string;
}

export interface ComposeResult {
  status: number;
  stderr: string;
  services: Record<string, ResolvedService>;
}

/** Runs `docker-compose config` on the file with only `envFileContent` as its environment. */
export function composeConfig(composeFile: string, envFileContent: string): ComposeResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-config-'));
  try {
    const envFile = path.join(dir, '.env');
    fs.writeFileSync(envFile, envFileContent);
    const result = spawnSync(
      'docker-compose',
      ['--project-directory', path.dirname(composeFile), '-f', composeFile, '--env-file', envFile, 'config'],
      // A clean environment: the developer's own variables must not satisfy a required one.
      { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir } },
    );
    if (result.error)
      throw new Error(
        `docker-compose could not run (${result.error.message}); install it: apt-get install docker-compose`,
      );
    const services =
      result.status === 0
        ? ((parse(result.stdout) as { services: Record<string, ResolvedService> }).services ?? {})
        : {};
    return { status: result.status ?? 1, stderr: result.stderr.trim(), services };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
