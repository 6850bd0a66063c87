// Runs before `npm test` and `npm run start:local`: installs npm dependencies when node_modules is
// missing or was installed from another package-lock.json, so a fresh clone needs no separate step.
// Plain .mjs (no TypeScript): it must run before tsx itself is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';

const stamp = 'node_modules/.liftstream-lock-sha256';
const lockHash = () => createHash('sha256').update(fs.readFileSync('package-lock.json')).digest('hex');
const current = fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === lockHash();
if (!current) {
  console.log('liftstream: installing npm dependencies (npm install, from package-lock.json) ...');
  // Not `npm ci`: npm 11 records only this platform's optional binaries (chDB, esbuild, rollup) in the lock
  // and `npm ci` then refuses the lock as out of sync; `npm install` installs exactly the locked versions.
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('liftstream: npm install failed; check the npm registry is reachable and retry.');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(stamp, lockHash());
}
