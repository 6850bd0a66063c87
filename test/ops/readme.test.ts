import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../infra/local/paths.ts';
import { commonEnvSchema } from '../../shared/config/common-config.ts';
import { serviceEnvSchemas } from '../helpers/service-env-schemas.ts';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every environment variable a service reads', () => {
    const names = new Set([
      ...Object.keys(commonEnvSchema.shape),
      ...Object.values(serviceEnvSchemas).flatMap((s) => Object.keys(s.shape)),
    ]);
    const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
    expect(missing, 'variables missing from the README configuration tables').toEqual([]);
  });

  it('names the two commands a newcomer runs', () => {
    expect(readme).toContain('npm run start:local');
    expect(readme).toContain('npm test');
  });
});
