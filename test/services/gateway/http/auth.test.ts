import { describe, expect, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../../shared/projects/project-catalog.ts';
import { authorizeIngest, authorizeIngestKey } from '../../../../services/gateway/src/http/auth.ts';
import { GatewayHttpError } from '../../../../services/gateway/src/http/http-errors.ts';

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'acme',
      keys: [
        { role: 'write', sha256: sha256Hex('w-key') },
        { role: 'read', sha256: sha256Hex('r-key') },
        { role: 'client', sha256: sha256Hex('c-key') },
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

  it('reads the key as the user name of Basic auth, as Segment libraries send it', () => {
    const basic = `Basic ${Buffer.from('w-key:').toString('base64')}`;
    expect(authorizeIngest(basic, catalog).role).toBe('write');
  });

  it('accepts a client key in the header', () => {
    expect(authorizeIngest('Bearer c-key', catalog).role).toBe('client');
  });
});

describe('authorizeIngestKey', () => {
  it.each(['query', 'body'] as const)('accepts a client key from the %s', (source) => {
    expect(authorizeIngestKey('c-key', source, catalog).role).toBe('client');
  });

  it.each(['query', 'body'] as const)(
    'refuses a write key from the %s with 403, not echoing it',
    (source) => {
      let error: GatewayHttpError | undefined;
      try {
        authorizeIngestKey('w-key', source, catalog);
      } catch (err) {
        error = err as GatewayHttpError;
      }
      expect(error).toMatchObject({ code: 'forbidden', statusCode: 403 });
      expect(error?.message).toMatch(
        /write keys are secrets and may only be sent in the Authorization header/,
      );
      expect(error?.message).not.toContain('w-key');
    },
  );

  it('refuses an unknown key with 401 wherever it comes', () => {
    expect(() => authorizeIngestKey('nope', 'body', catalog)).toThrow(/unknown API key/);
  });
});
