import type { FastifyReply, FastifyRequest } from 'fastify';

/** What every service's HTTP error class provides (gateway and stats keep their own code catalogues). */
export interface HttpErrorLike {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  readonly cause?: unknown;
  readonly retryAfterSeconds: number | undefined;
  body(): { error: { code: string; message: string } };
}

/**
 * Sends one error in the services' single error format, with Retry-After where the client should retry.
 * Dependency failures (5xx other than internal errors) are logged as warnings with their cause; client
 * errors only at debug, so a flood of bad requests cannot flood the logs.
 */
export function sendHttpError(
  error: HttpErrorLike,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error.statusCode >= 500 && error.code !== 'internal_error') {
    request.log.warn(
      { code: error.code, err: error.cause instanceof Error ? error.cause.message : undefined },
      error.message,
    );
  } else if (error.statusCode < 500) {
    request.log.debug({ code: error.code }, error.message);
  }
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.statusCode).send(error.body());
}
