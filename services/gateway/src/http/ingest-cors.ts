/**
 * CORS of the ingest routes (@fastify/cors), so that web pages can send events with a client key.
 * A request whose Origin some project lists (origin-policy.ts) gets `Access-Control-Allow-Origin:
 * <origin>` on every answer, errors included, so the page can read why it was refused; its preflight
 * (`OPTIONS`) is answered 204 without touching auth, Kafka or the body. A preflight from an origin no
 * project lists is 403 `origin_not_allowed`; other routes get no CORS at all (OPTIONS there is 404).
 */
import cors from '@fastify/cors';
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayHttpError } from './http-errors.ts';
import type { OriginPolicy } from './origin-policy.ts';
import { showOrigin } from './origin-policy.ts';

/** How long a browser may cache a preflight answer, s (Chromium caps it at 2 h, Firefox at 24 h). */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** What a page may send and read. Retry-After is not a CORS-safelisted response header. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'content-encoding'];
const EXPOSED_HEADERS = ['retry-after', 'x-request-id'];

/** Registers CORS on `app` for requests whose path is one of `paths`. */
export async function registerIngestCors(
  app: FastifyInstance,
  paths: readonly string[],
  policy: OriginPolicy,
): Promise<void> {
  const ingestPaths = new Set(paths);
  const delegator = (
    request: FastifyRequest,
    callback: (error: Error | null, options: FastifyCorsOptions) => void,
  ): void => {
    const origin = request.headers.origin;
    const path = request.url.split('?', 1)[0] as string;
    if (origin === undefined || !ingestPaths.has(path)) {
      callback(null, { origin: false });
      return;
    }
    if (!policy.listed(origin)) {
      if (request.method === 'OPTIONS') {
        callback(
          new GatewayHttpError(
            'origin_not_allowed',
            `Origin ${showOrigin(origin)} is not in the "allowedOrigins" of any project (projects file); ` +
              'add it to the project whose client key the page uses',
          ),
          { origin: false },
        );
        return;
      }
      // A POST is refused or not by its key (a server may send any Origin); it only gets no CORS headers.
      callback(null, { origin: false });
      return;
    }
    callback(null, {
      origin,
      methods: ['POST'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
      // No credentials: keys travel in headers or the body, never in cookies.
      credentials: false,
    });
  };
  await app.register(cors, { delegator, hideOptionsRoute: true });
}
