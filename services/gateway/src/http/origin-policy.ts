/**
 * Which web origins may use the ingest routes. Two questions with two answers:
 * - CORS (preflights, and the Access-Control-Allow-Origin of answers): an origin listed in any
 *   project's `allowedOrigins`. A preflight carries no key, so it cannot be checked per project; an
 *   origin no project lists is refused at once.
 * - Authorization: a request with a client key and an `Origin` header must come from an origin of
 *   that key's project, else 403 `origin_not_allowed`. Without `Origin` (a server, a script) a client
 *   key is accepted: Origin is the browser's protection of its user, not a credential (any non-browser
 *   client can send any Origin), so refusing its absence would protect nothing. Write keys are not
 *   checked: they are secrets that belong on servers.
 */
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { originMatcher } from '../../../../shared/projects/origin-patterns.ts';
import type { OriginMatcher } from '../../../../shared/projects/origin-patterns.ts';
import { GatewayHttpError } from './http-errors.ts';

/** Longest part of a hostile Origin header echoed in a message. */
const SHOWN_ORIGIN_LENGTH = 120;

export interface OriginPolicy {
  /** Whether any project lists `origin` (CORS). */
  listed(origin: string): boolean;
  /** Throws 403 `origin_not_allowed` unless `principal` may ingest from `origin` (see above). */
  check(principal: Principal, origin: string | undefined): void;
}

export function createOriginPolicy(catalog: ProjectCatalog): OriginPolicy {
  const byProject = new Map<string, OriginMatcher>();
  for (const project of catalog.projects()) byProject.set(project.id, originMatcher(project.allowedOrigins));
  const any = originMatcher(catalog.projects().flatMap((p) => p.allowedOrigins));
  return {
    listed: (origin) => any.matches(origin),
    check(principal, origin) {
      if (origin === undefined || principal.role !== 'client') return;
      const project = principal.project.id;
      const matcher = byProject.get(project) as OriginMatcher;
      if (matcher.matches(origin)) return;
      throw new GatewayHttpError(
        'origin_not_allowed',
        `Origin ${showOrigin(origin)} may not use the client keys of project "${project}": ` +
          (matcher.empty
            ? `the project lists no "allowedOrigins"`
            : `it is not in the project's "allowedOrigins"`) +
          ' (projects file); add it there to allow it',
      );
    },
  };
}

/** A request's Origin as a message may show it: quoted, escaped, truncated. */
export function showOrigin(origin: string): string {
  return JSON.stringify(
    origin.length > SHOWN_ORIGIN_LENGTH ? `${origin.slice(0, SHOWN_ORIGIN_LENGTH)}…` : origin,
  );
}
