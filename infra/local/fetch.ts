import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { apicurioHome, kafkaHome, repoRoot } from './paths.ts';

/** Runs infra/fetch.sh unless both downloads are already complete (the common, instant case). */
export function ensureDownloads(): void {
  if (
    fs.existsSync(path.join(kafkaHome, '.complete')) &&
    fs.existsSync(path.join(apicurioHome, '.complete'))
  ) {
    return;
  }
  const result = spawnSync('bash', [path.join(repoRoot, 'infra', 'fetch.sh')], { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error('fetching Kafka and the schema registry failed (see the lines above)');
}
