/**
 * Headers on every answer of the stats service. Data answers are JSON read by scripts and by the results
 * page: `nosniff` keeps a browser from running one as anything else, `default-src 'none'` gives a
 * document opened from one nothing to load or run, and `no-store` keeps results, which a read key
 * unlocks, out of browser and proxy caches. The page's own files replace the policy with theirs
 * (ui-routes.ts).
 */
import type { FastifyInstance } from 'fastify';

export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('content-security-policy', API_CONTENT_SECURITY_POLICY);
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
  });
}
