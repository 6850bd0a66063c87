import { describe, expect, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../../shared/projects/project-catalog.ts';
import { authorizeIngest } from '../../../../services/gateway/src/http/auth.ts';
import { GatewayHttpError } from '../../../../services/gateway/src/http/http-errors.ts';

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'acme',
      keys: [
        { role: 'write', sha256: sha256Hex('w-key') },
        { role: 'read', sha256: sha256Hex('r-key') },
      ],
    },
  ],
});

function failure(header: string | undefined): { code: string; status: number; message: string } {
  try {
    authorizeIngest(header, catalog);
  } catch (err) {
    const e = err as GatewayHttpError;
    return { code: e.code, status: e.statusCode, message: e.message };
  }
  throw new Error(`expected ${String(header)} to be refused`);
}

describe('authorizeIngest', () => {
  it('returns the project of a write key', () => {
    expect(authorizeIngest('Bearer w-key', catalog).project.id).toBe('acme');
  });

  it('accepts the scheme in any case and surrounding blanks', () => {
    expect(authorizeIngest('bearer   w-key ', catalog).role).toBe('write');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic dzprZXk='],
    ['a bare key', 'w-key'],
    ['an unknown key', 'Bearer nope'],
  ])('refuses %s with 401', (_name, header) => {
    expect(failure(header)).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('refuses a read key with 403, naming the project but not the key', () => {
    const f = failure('Bearer r-key');
    expect(f).toMatchObject({ code: 'forbidden', status: 403 });
    expect(f.message).toContain('acme');
    expect(f.message).not.toContain('r-key');
  });

  it('is a GatewayHttpError so the error handler maps it', () => {
    expect(() => authorizeIngest(undefined, catalog)).toThrow(GatewayHttpError);
  });
});
