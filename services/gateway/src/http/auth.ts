/**
 * Authentication of ingest requests. A key is looked up by its hash in the project catalog (never
 * stored or logged in clear). Write keys (secrets) may only come in the `Authorization` header; client
 * keys (publishable) also in the `api_key` query parameter or body field, since `navigator.sendBeacon`
 * cannot set headers. A missing or unknown key is 401; a read key, or a write key outside the header,
 * is 403.
 */
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { GatewayHttpError } from './http-errors.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** Segment's libraries send the key as the user name of HTTP Basic auth, with no password. */
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i;

/** Where a request carried its key. */
export type KeySource = 'header' | 'query' | 'body';

const SOURCE_WORDS: Record<Exclude<KeySource, 'header'>, string> = {
  query: 'the URL (?api_key=)',
  body: 'the body ("api_key")',
};

/**
 * The key of an `Authorization` header, `Bearer <key>` or (as Segment's libraries send it) `Basic
 * base64(<key>:)`; undefined when there is none, 401 when it is malformed.
 */
export function bearerKey(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const bearer = BEARER.exec(header);
  if (bearer !== null) return bearer[1] as string;
  const basic = BASIC.exec(header);
  const user =
    basic === null
      ? ''
      : Buffer.from(basic[1] as string, 'base64')
          .toString('utf8')
          .split(':', 1)[0];
  if (user === undefined || user === '') {
    throw new GatewayHttpError(
      'unauthorized',
      'the Authorization header must be "Bearer <write or client key>" (or Basic with the key as user name)',
    );
  }
  return user;
}

/** 401 for a request that carries no key anywhere. */
export function missingKey(): GatewayHttpError {
  return new GatewayHttpError(
    'unauthorized',
    'missing API key; send "Authorization: Bearer <write or client key>" (a client key may instead come as ' +
      '?api_key= in the URL or "api_key" in a JSON body)',
  );
}

/** The principal of `key` from `source`, if it may ingest from there; throws 401/403 otherwise. */
export function authorizeIngestKey(key: string, source: KeySource, catalog: ProjectCatalog): Principal {
  const principal = catalog.authenticate(key);
  if (principal === undefined) throw new GatewayHttpError('unauthorized', 'unknown API key');
  const project = principal.project.id;
  if (principal.role === 'read') {
    throw new GatewayHttpError(
      'forbidden',
      `this is a read key of project "${project}"; ingestion needs a write or client key`,
    );
  }
  if (source !== 'header' && principal.role !== 'client') {
    throw new GatewayHttpError(
      'forbidden',
      `this is a write key of project "${project}" in ${SOURCE_WORDS[source]}; write keys are secrets and may only ` +
        'be sent in the Authorization header (URLs and bodies end up in logs): replace this key. Only client keys ' +
        '(lsc_) may travel in the URL or body',
    );
  }
  return principal;
}

/** The principal of an `Authorization` header allowed to ingest; throws 401/403 otherwise. */
export function authorizeIngest(header: string | undefined, catalog: ProjectCatalog): Principal {
  const key = bearerKey(header);
  if (key === undefined) throw missingKey();
  return authorizeIngestKey(key, 'header', catalog);
}
