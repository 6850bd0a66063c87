/**
 * Bearer-key authentication of ingest requests. The key is looked up by its hash in the project
 * catalog (never stored or logged in clear); a missing or unknown key is 401, a read key is 403.
 */
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { GatewayHttpError } from './http-errors.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The principal of an `Authorization` header allowed to ingest; throws 401/403 otherwise. */
export function authorizeIngest(header: string | undefined, catalog: ProjectCatalog): Principal {
  if (header === undefined || header.trim() === '') {
    throw new GatewayHttpError(
      'unauthorized',
      'missing Authorization header; send "Authorization: Bearer <write key>"',
    );
  }
  const match = BEARER.exec(header);
  if (match === null) {
    throw new GatewayHttpError('unauthorized', 'the Authorization header must be "Bearer <write key>"');
  }
  const principal = catalog.authenticate(match[1] as string);
  if (principal === undefined) throw new GatewayHttpError('unauthorized', 'unknown API key');
  if (principal.role !== 'write') {
    throw new GatewayHttpError(
      'forbidden',
      `this is a read key of project "${principal.project.id}"; ingestion needs a write key`,
    );
  }
  return principal;
}
