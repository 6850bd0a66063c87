/**
 * Builds the SDK into a temp dir for tests and benches (never into the work tree's sdk/dist, which
 * another build may be using), with `sdk/scripts/build.mjs`, the same script as `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SdkBuild {
  dir: string;
  /** ESM for bundlers and Node (`uuid` imported). */
  moduleFile: string;
  /** One minified ESM file for a page. */
  bundleFile: string;
  sizes: Record<'index.js' | 'liftstream.min.js', { bytes: number; gzipBytes: number }>;
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

export function buildSdk(opts: { types?: boolean } = {}): SdkBuild {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-sdk-build-'));
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'sdk/scripts/build.mjs'), '--outdir', dir, ...(opts.types ? [] : ['--skip-types'])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return {
    dir,
    moduleFile: path.join(dir, 'index.js'),
    bundleFile: path.join(dir, 'liftstream.min.js'),
    sizes: JSON.parse(fs.readFileSync(path.join(dir, 'sizes.json'), 'utf8')) as SdkBuild['sizes'],
  };
}
