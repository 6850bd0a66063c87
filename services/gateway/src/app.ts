/**
 * Builds the gateway's fastify app from its dependencies (no listen: main.ts and tests do that).
 * Everything with I/O (Kafka writer, schema registration, probes) comes in through `deps`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import swagger from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { clientLimitServerOptions, limitConnections } from '../../../shared/http/client-limits.ts';
import type { ClientLimits } from '../../../shared/http/client-limits.ts';
import { sendHttpError } from '../../../shared/http/send-http-error.ts';
import { addRequestBasics } from '../../../shared/http/request-basics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import type { GatewayConfig } from './config.ts';
import { DiscoveredEvents } from './ingest/discovered-events.ts';
import { loadProjectDefinitions } from './ingest/project-definitions.ts';
import { GatewayHttpError } from './http/http-errors.ts';
import { IGNORE_OUTCOMES } from './ingest-reports/outcome-ledger.ts';
import type { IngestOutcomeRecorder } from './ingest-reports/outcome-ledger.ts';
import { ingestRoutes, randomEventId } from './http/ingest-routes.ts';
import { opsRoutes } from './http/ops-routes.ts';
import type { KafkaCheck } from './http/ops-routes.ts';
import { parseJsonText, parseNdjsonText } from './http/request-body.ts';
import type { GatewayMetrics } from './metrics/gateway-metrics.ts';
import type { BatchEncoder } from './transport/confluent-encoder.ts';
import type { IngestSink } from './transport/ingest-producer.ts';
import type { RegistrationState } from './transport/schema-registration.ts';

export type GatewayAppConfig = Pick<
  GatewayConfig,
  'maxBatchEvents' | 'maxBodyBytes' | 'backfillMs' | 'maxFutureMs' | 'retryAfterSeconds' | 'defaultRateLimits'
> &
  ClientLimits;

/** The registered ingest schema as the app uses it (SchemaRegistration in production). */
export interface IngestSchemaSource {
  /** The encoder of the registered schema; undefined until registration succeeded. */
  encoder(): BatchEncoder | undefined;
  state(): RegistrationState;
  registryReachable(): Promise<boolean>;
}

export interface GatewayDeps {
  config: GatewayAppConfig;
  catalog: ProjectCatalog;
  /** Where accepted records go (KafkaIngestProducer in production). */
  producer: IngestSink;
  schema: IngestSchemaSource;
  /** Kafka reachability for /readyz. */
  kafkaCheck: () => Promise<KafkaCheck>;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Where per-project outcomes are counted for the ingest reports (the ledger in production); default none. */
  outcomes?: IngestOutcomeRecorder;
  /** Receive-time clock, unix ms (Date.now). */
  now?: () => number;
  /** Event id source (crypto.randomUUID). */
  newEventId?: () => string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'];

/** Builds the app; throws CONFIG_INVALID when a project's event definitions are broken. */
export async function buildGatewayApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config, metrics, logger } = deps;
  const definitions = loadProjectDefinitions(deps.catalog);
  let closing = false;
  // Connections whose request was answered while its body is still arriving (see the error handler).
  const answered = new WeakSet<Socket>();

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    // Per-request info logs would cost more than the request at 50,000 events/s; completions are
    // logged at debug below, errors at warn/error.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // A caller's X-Request-Id is kept when it is a plain token, so ids can be followed across services.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Answered by the onRequest hook below in the one error format instead.
    return503OnClosing: false,
    ...clientLimitServerOptions(config, {
      errorFor: (code, message) => new GatewayHttpError(code, message),
      logger,
      metrics,
      alreadyAnswered: (socket) => answered.has(socket),
    }),
  });
  limitConnections(app.server, config.maxConnections, metrics);

  app.removeContentTypeParser(['application/json', 'text/plain']);
  // text/plain is JSON too: navigator.sendBeacon and no-cors fetches send strings as text/plain (a
  // type that needs no CORS preflight).
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonText(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseNdjsonText(body as string));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = toGatewayError(error, request);
    if ((answer.code === 'body_too_large' || answer.code === 'invalid_encoding') && !request.raw.complete) {
      // fastify closes the connection on a body over the limit, but the client is usually still
      // sending it, and closing a socket with unread bytes makes the kernel reset the connection:
      // most clients then report a broken pipe instead of the 413 (about half of streamed uploads
      // did). Kept open, node reads and discards the rest; REQUEST_TIMEOUT_MS bounds how long.
      reply.removeHeader('connection');
      const socket = request.raw.socket;
      answered.add(socket);
      request.raw.once('end', () => answered.delete(socket));
    }
    return sendHttpError(answer, request, reply);
  });
  addRequestBasics(app, {
    notFound: (message) => new GatewayHttpError('not_found', message),
    whileClosing: () =>
      closing
        ? new GatewayHttpError('shutting_down', 'the gateway is shutting down; retry on another instance', {
            retryAfterSeconds: config.retryAfterSeconds,
          })
        : undefined,
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.httpRequests.inc({ route, method: request.method, status: String(status) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    request.log.debug({ route, status, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Requests already in flight when shutdown starts are answered, then their keep-alive connections
  // closed: otherwise the server would wait for the clients' keep-alive timeouts before it can stop.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'liftstream ingest gateway',
        version: '1',
        description:
          'Authenticated, validated, durable event ingestion. Every error answer is { "error": { "code", "message" } }.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'A write key (lsw_) or client key (lsc_)',
          },
          apiKeyQuery: {
            type: 'apiKey',
            in: 'query',
            name: 'api_key',
            description: 'Client keys (lsc_) only',
          },
        },
      },
    },
  });

  const discovered = new DiscoveredEvents();
  await app.register(
    ingestRoutes({
      catalog: deps.catalog,
      definitions,
      sink: deps.producer,
      encoder: () => deps.schema.encoder(),
      maxBatchEvents: config.maxBatchEvents,
      maxBodyBytes: config.maxBodyBytes,
      defaultRateLimits: config.defaultRateLimits,
      backfillMs: config.backfillMs,
      maxFutureMs: config.maxFutureMs,
      retryAfterSeconds: config.retryAfterSeconds,
      metrics,
      outcomes: deps.outcomes ?? IGNORE_OUTCOMES,
      discovered,
      now: deps.now ?? Date.now,
      newEventId: deps.newEventId ?? randomEventId,
    }),
  );
  await app.register(
    opsRoutes({
      metrics,
      kafkaCheck: deps.kafkaCheck,
      schemaState: () => deps.schema.state(),
      registryReachable: () => deps.schema.registryReachable(),
    }),
  );
  return app;
}

/** Any error to the one error format; unknown errors become 500 without their details. */
function toGatewayError(error: FastifyError, request: FastifyRequest): GatewayHttpError {
  if (error instanceof GatewayHttpError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayHttpError(
        'body_too_large',
        `the request body is larger than the limit: ${error.message}`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayHttpError(
        'unsupported_media_type',
        `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not supported; use application/json, application/x-ndjson or text/plain (holding JSON)`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayHttpError('invalid_json', 'the request body is empty; expected JSON');
    default:
      break;
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // fastify's own client errors (bad Content-Length, aborted body, ...): their messages are safe.
    return new GatewayHttpError('invalid_request', error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return new GatewayHttpError('internal_error', `internal error; request id ${request.id}`);
}
