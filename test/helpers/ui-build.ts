/**
 * Builds the results page into a temp dir for tests (never into the work tree's dist/ui, which a running
 * service may be serving), with scripts/build-ui.mjs, the same script as `npm run build:ui`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The directory to serve (STATS_UI_DIR); the caller removes it. */
export function buildUi(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-ui-build-'));
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build-ui.mjs'), '--outdir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return dir;
}
