import { describe, expect, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../../shared/projects/project-catalog.ts';
import { authorizeRead } from '../../../../services/stats/src/http/auth.ts';
import { StatsHttpError } from '../../../../services/stats/src/http/stats-errors.ts';

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'shop',
      keys: [
        { role: 'write', sha256: sha256Hex('shop-write') },
        { role: 'read', sha256: sha256Hex('shop-read') },
      ],
    },
  ],
});

function refusal(header: string | undefined): { status: number; code: string } {
  try {
    authorizeRead(header, catalog);
  } catch (err) {
    if (err instanceof StatsHttpError) return { status: err.statusCode, code: err.code };
    throw err;
  }
  throw new Error('accepted');
}

describe('authorizeRead', () => {
  it('accepts a read key and returns its project', () => {
    expect(authorizeRead('Bearer shop-read', catalog).project.id).toBe('shop');
  });

  it('refuses a write key with 403', () => {
    expect(refusal('Bearer shop-write')).toEqual({ status: 403, code: 'forbidden' });
  });

  it.each([
    ['no header', undefined],
    ['an empty header', '  '],
    ['another scheme', 'Basic c2hvcDpyZWFk'],
    ['an unknown key', 'Bearer nope'],
  ])('refuses %s with 401', (_name, header) => {
    expect(refusal(header)).toEqual({ status: 401, code: 'unauthorized' });
  });
});
