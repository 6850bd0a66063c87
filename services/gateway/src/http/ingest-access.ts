/**
 * The hooks every ingest route runs before its handler, in order:
 * 1. onRequest: the key from the `Authorization` header or the `api_key` query parameter (not both),
 *    authenticated, its Origin checked (client keys) and its rate limit applied; then the
 *    Content-Encoding checked. All before a byte of the body is read.
 * 2. preParsing: a gzip or deflate body is decompressed as it streams, the body limit applying to the
 *    decompressed bytes (content-encoding.ts).
 * 3. preHandler: a request that had no key so far must carry a client key as `"api_key"` in its JSON
 *    body (a beacon); it is taken out of the body, then checked like the others.
 */
import type {
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
  preParsingAsyncHookHandler,
} from 'fastify';
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { authorizeIngestKey, bearerKey, missingKey } from './auth.ts';
import type { KeySource } from './auth.ts';
import { bodyEncoding, decodeBody } from './content-encoding.ts';
import { GatewayHttpError } from './http-errors.ts';
import type { KeyRateLimiter } from './key-rate-limit.ts';
import type { OriginPolicy } from './origin-policy.ts';
import { isNdjsonBody } from './request-body.ts';

export interface IngestAccessDeps {
  catalog: ProjectCatalog;
  origins: OriginPolicy;
  rateLimit: KeyRateLimiter;
  /** MAX_BODY_BYTES: the limit of a decompressed body. */
  maxBodyBytes: number;
}

export interface IngestAccessHooks {
  onRequest: onRequestAsyncHookHandler;
  preParsing: preParsingAsyncHookHandler;
  preHandler: preHandlerAsyncHookHandler;
}

const BODY_KEY = 'api_key';

export function ingestAccessHooks(deps: IngestAccessDeps): IngestAccessHooks {
  const admit = async (request: FastifyRequest, key: string, source: KeySource): Promise<void> => {
    const principal: Principal = authorizeIngestKey(key, source, deps.catalog);
    deps.origins.check(principal, request.headers.origin);
    request.principal = principal;
    await deps.rateLimit(request, principal);
  };

  return {
    async onRequest(request: FastifyRequest) {
      const header = bearerKey(request.headers.authorization);
      const query = queryKey(request);
      if (header !== undefined && query !== undefined) {
        throw twice('the Authorization header and the api_key query parameter');
      }
      if (header !== undefined) await admit(request, header, 'header');
      else if (query !== undefined) await admit(request, query, 'query');
      bodyEncoding(request.headers['content-encoding']);
    },

    async preParsing(request: FastifyRequest, _reply: FastifyReply, payload) {
      const encoding = bodyEncoding(request.headers['content-encoding']);
      return encoding === 'identity' ? payload : decodeBody(payload, encoding, deps.maxBodyBytes);
    },

    async preHandler(request: FastifyRequest) {
      const key = takeBodyKey(request.body);
      if (request.principal !== null) {
        if (key !== undefined) throw twice('the Authorization header or ?api_key=, and the body ("api_key")');
        return;
      }
      if (key === undefined) {
        if (isNdjsonBody(request.body)) {
          throw new GatewayHttpError(
            'unauthorized',
            'missing API key; an ndjson body cannot carry one: send "Authorization: Bearer <key>" or ?api_key=<client key>',
          );
        }
        throw missingKey();
      }
      await admit(request, key, 'body');
    },
  };
}

/** The `api_key` query parameter; 400 when it is given several times or empty. */
function queryKey(request: FastifyRequest): string | undefined {
  if (!request.url.includes('api_key')) return undefined; // no query parsing for the usual request
  const value = (request.query as Record<string, unknown> | undefined)?.[BODY_KEY];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new GatewayHttpError(
      'invalid_request',
      'the api_key query parameter must be given once, non-empty',
    );
  }
  return value;
}

/**
 * Removes and returns the `api_key` field of a JSON object body (a batch, or the one event of
 * /v1/track ...), so the key goes no further; undefined when there is none. A non-string is 401.
 */
function takeBodyKey(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, BODY_KEY)) {
    return undefined;
  }
  const record = body as Record<string, unknown>;
  const key = record[BODY_KEY];
  delete record[BODY_KEY];
  if (typeof key !== 'string' || key === '') {
    throw new GatewayHttpError(
      'unauthorized',
      '"api_key" in the body must be a non-empty string (a client key)',
    );
  }
  return key;
}

function twice(places: string): GatewayHttpError {
  return new GatewayHttpError('invalid_request', `the API key is given twice (${places}); send it once`);
}
