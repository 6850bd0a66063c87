/**
 * Bearer-key authentication of read requests. The key is looked up by its hash in the project catalog
 * (never stored or logged in clear); a missing or unknown key is 401, a write or client key is 403. The principal's
 * project scopes every query of the request: a key never sees another project's data.
 */
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { StatsHttpError } from './stats-errors.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The principal of an `Authorization` header allowed to read results; throws 401/403 otherwise. */
export function authorizeRead(header: string | undefined, catalog: ProjectCatalog): Principal {
  if (header === undefined || header.trim() === '') {
    throw new StatsHttpError(
      'unauthorized',
      'missing Authorization header; send "Authorization: Bearer <read key>"',
    );
  }
  const match = BEARER.exec(header);
  if (match === null) {
    throw new StatsHttpError('unauthorized', 'the Authorization header must be "Bearer <read key>"');
  }
  const principal = catalog.authenticate(match[1] as string);
  if (principal === undefined) throw new StatsHttpError('unauthorized', 'unknown API key');
  if (principal.role !== 'read') {
    throw new StatsHttpError(
      'forbidden',
      `this is a ${principal.role} key of project "${principal.project.id}"; reading results needs a read key`,
    );
  }
  return principal;
}
