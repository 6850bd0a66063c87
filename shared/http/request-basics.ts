import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../logging/redact-url.ts';
import { sendHttpError, type HttpErrorLike } from './send-http-error.ts';

/**
 * What every service's app does around its routes, in the one error format: each answer carries the
 * request id; unknown routes are answered `not_found`; while the service is closing every new request
 * is refused (with `Connection: close`, so keep-alive clients move to another instance).
 */
export function addRequestBasics(
  app: FastifyInstance,
  errors: {
    notFound: (message: string) => HttpErrorLike;
    /** The refusal while the service is closing; undefined while it serves. */
    whileClosing: () => HttpErrorLike | undefined;
  },
): void {
  app.setNotFoundHandler((request, reply) =>
    sendHttpError(errors.notFound(`no route ${request.method} ${redactUrl(request.url)}`), request, reply),
  );
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const refusal = errors.whileClosing();
    if (refusal !== undefined) {
      reply.header('connection', 'close');
      throw refusal;
    }
  });
}
