/**
 * Bounds on slow and abusive HTTP clients, the same for every service's fastify server: how long a
 * request's headers and the whole request may take, how long an idle keep-alive connection stays
 * open, how many connections may be open, and an answer in the one error format for what node's HTTP
 * parser refuses before any route sees it. Each service chooses its own defaults and keeps the three
 * error codes in its own catalogue; this module only applies them.
 */
import { STATUS_CODES } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { positiveInt } from '../config/load-env.ts';
import type { Logger } from '../logging/logger.ts';
import type { HttpErrorLike } from './send-http-error.ts';

/** A service's client bounds; units are in the names. */
export interface ClientLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** The variables of ClientLimits, as a service's env schema validates them. */
export interface ClientLimitsEnv {
  MAX_CONNECTIONS: number;
  HEADERS_TIMEOUT_MS: number;
  REQUEST_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
}

/**
 * The env fields of ClientLimits with a service's defaults, to spread into its schema's `extend`;
 * wrap the extended schema in `withHeadersWithinRequest`.
 */
export function clientLimitsEnvFields(defaults: ClientLimits) {
  return {
    /**
     * Open client connections beyond which new ones are closed at once (node's server.maxConnections):
     * a bound on sockets and their memory whatever clients do. Keep it below the file-descriptor limit.
     */
    MAX_CONNECTIONS: positiveInt.default(defaults.maxConnections),
    /**
     * Longest time to receive a request's headers, ms: a new connection that sends nothing, or dribbles
     * its headers (slow-loris), is answered 408 and closed. Idle keep-alive connections are governed
     * by KEEP_ALIVE_TIMEOUT_MS instead.
     */
    HEADERS_TIMEOUT_MS: positiveInt.default(defaults.headersTimeoutMs),
    /**
     * Longest time to receive a whole request, headers and body, ms (node's requestTimeout; fastify's
     * default of 0 would let a body that never completes hold its socket forever). Handling time does
     * not count.
     */
    REQUEST_TIMEOUT_MS: positiveInt.default(defaults.requestTimeoutMs),
    /** How long an idle keep-alive connection stays open, ms. */
    KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(defaults.keepAliveTimeoutMs),
  };
}

/** `schema` checked so that HEADERS_TIMEOUT_MS does not exceed REQUEST_TIMEOUT_MS (node refuses it). */
export function withHeadersWithinRequest<S extends z.ZodType<ClientLimitsEnv>>(schema: S): S {
  return schema.refine((env) => env.HEADERS_TIMEOUT_MS <= env.REQUEST_TIMEOUT_MS, {
    path: ['HEADERS_TIMEOUT_MS'],
    message: 'must not exceed REQUEST_TIMEOUT_MS (the headers are part of the request)',
  });
}

/** Maps the validated variables to the config fields. */
export function toClientLimits(env: ClientLimitsEnv): ClientLimits {
  return {
    maxConnections: env.MAX_CONNECTIONS,
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
  };
}

/** Connections refused below the routes, so they never reach a service's request counters. */
export interface ClientLimitMetrics {
  /**
   * Connections answered by node's HTTP parser before any route saw them (too slow, headers too
   * large, not HTTP), by error code.
   */
  readonly httpClientErrors: Counter<'code'>;
  /** Connections closed at once because MAX_CONNECTIONS were already open. */
  readonly httpConnectionsDropped: Counter;
}

/** The two counters, named `<prefix>http_client_errors_total` and `<prefix>http_connections_dropped_total`. */
export function createClientLimitMetrics(prefix: string, registers: Registry[]): ClientLimitMetrics {
  return {
    httpClientErrors: new Counter({
      name: `${prefix}http_client_errors_total`,
      help: 'Connections cut by the HTTP parser (request_timeout, headers_too_large, invalid_request)',
      labelNames: ['code'] as const,
      registers,
    }),
    httpConnectionsDropped: new Counter({
      name: `${prefix}http_connections_dropped_total`,
      help: 'Connections closed at once because MAX_CONNECTIONS were open',
      registers,
    }),
  };
}

/** The codes of what node's parser refuses; each service's error catalogue must hold them. */
export type ClientErrorCode = 'request_timeout' | 'headers_too_large' | 'invalid_request';

export interface ClientErrorDeps {
  /** The service's error for a code (its catalogue gives the status). */
  errorFor: (code: ClientErrorCode, message: string) => HttpErrorLike;
  logger: Logger;
  metrics: ClientLimitMetrics;
  /**
   * Whether the connection's request was already answered while its body is still arriving (the
   * gateway's 413 on a body over its limit): such a connection is closed without a second answer.
   */
  alreadyAnswered?: (socket: Socket) => boolean;
}

/** The fastify server options that apply `limits` (pass them to `Fastify({...})`). */
export function clientLimitServerOptions(
  limits: ClientLimits,
  deps: ClientErrorDeps,
): Required<
  Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'clientErrorHandler'> & {
    http: { headersTimeout: number; connectionsCheckingInterval: number };
  }
> {
  return {
    // Slow clients: node cuts a connection whose headers or whole request are late (408), so a
    // slow-loris client holds a socket for a bounded time. No idle socket timeout besides keep-alive:
    // the request timeouts cover every phase in which the client owes bytes.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // node checks the two timeouts every 30 s by default, which would let a slow client stay up to
      // 30 s past them; 1 s is cheap (one pass over the open connections).
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, deps),
  };
}

/** Closes connections beyond `maxConnections` at once (no answer), counting them. */
export function limitConnections(server: Server, maxConnections: number, metrics: ClientLimitMetrics): void {
  server.maxConnections = maxConnections;
  server.on('drop', () => metrics.httpConnectionsDropped.inc());
}

/**
 * Answers what node's HTTP parser refuses before fastify sees a request (a late request, headers over
 * 16 KiB, bytes that are not HTTP) in the one error format, then closes the connection, as node does.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  deps: ClientErrorDeps,
): void {
  // A reset connection, or one already gone, has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? deps.errorFor(
          'request_timeout',
          'the request did not arrive in time (slow headers or body); the connection is closed',
        )
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? deps.errorFor('headers_too_large', 'the request headers are larger than 16 KiB')
        : deps.errorFor('invalid_request', 'the request is not valid HTTP/1.1');
  deps.metrics.httpClientErrors.inc({ code: answer.code });
  deps.logger.debug({ code: answer.code, err: error.message }, 'client error; connection closed');
  // A request already answered (or node's private handle of a response whose headers are out) gets
  // no second answer: it would corrupt the stream, so the connection is only closed.
  const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !deps.alreadyAnswered?.(socket) && !inProgress?.headersSent) {
    const body = JSON.stringify(answer.body());
    socket.write(
      `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
