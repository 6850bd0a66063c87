// Runs before `npm test` and `npm run start:local`: installs npm dependencies when node_modules is
// missing or older than package-lock.json, so a fresh clone needs no separate install step.
// Plain .mjs (no TypeScript): it must run before tsx itself is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const lock = 'package-lock.json';
const installed = 'node_modules/.package-lock.json';
const stale = !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs;
if (stale) {
  console.log('liftstream: installing npm dependencies (npm ci) ...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('liftstream: npm ci failed; check the npm registry is reachable and retry.');
    process.exit(result.status ?? 1);
  }
}
