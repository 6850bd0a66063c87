// Runs before `npm test` and `npm run start:local`: checks the Node version, then installs npm
// dependencies with `npm ci` (exactly package-lock.json) when node_modules is missing or was installed
// from another lock, so a fresh clone needs no separate step.
// Plain .mjs (no TypeScript): it must run before tsx itself is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';

const required = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < required) {
  console.error(
    `liftstream: Node.js ${process.versions.node} is too old; liftstream needs Node ${required} LTS or newer ` +
      `(Node 20 reached end of life on 2026-04-30). Without a system install: ` +
      `npm install --prefix ~/.cache/liftstream/node22 node@${required} and put its node_modules/.bin first on PATH.`,
  );
  process.exit(1);
}

const stamp = 'node_modules/.liftstream-lock-sha256';
const lockHash = () => createHash('sha256').update(fs.readFileSync('package-lock.json')).digest('hex');
const current = fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === lockHash();
if (!current) {
  console.log('liftstream: installing npm dependencies (npm ci, exactly package-lock.json) ...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('liftstream: npm ci failed; check the npm registry is reachable and retry.');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(stamp, lockHash());
}
