/**
 * Builds the stats service's fastify app from its dependencies (no listen: main.ts and tests do that).
 * ClickHouse, the project catalog and the hosted sink's status come in through `deps`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClickHouseClient } from '@clickhouse/client';
import swagger from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { clientLimitServerOptions, limitConnections } from '../../../shared/http/client-limits.ts';
import type { ClientLimits } from '../../../shared/http/client-limits.ts';
import { sendHttpError } from '../../../shared/http/send-http-error.ts';
import { addRequestBasics } from '../../../shared/http/request-basics.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import type { SinkStatus } from '../../sink/src/index.ts';
import { FreshnessTracker } from './freshness/freshness-tracker.ts';
import { alertsRoutes } from './http/alerts-routes.ts';
import { ingestSummaryRoutes } from './http/ingest-summary-routes.ts';
import { opsRoutes } from './http/ops-routes.ts';
import { resultsRoutes } from './http/results-routes.ts';
import { newestCountedEvents } from './storage/newest-event-query.ts';
import { addSecurityHeaders } from './http/security-headers.ts';
import { srmRoutes } from './http/srm-routes.ts';
import { timeseriesRoutes } from './http/timeseries-routes.ts';
import { DEFAULT_UI_DIR, uiRoutes } from './http/ui-routes.ts';
import { StatsHttpError } from './http/stats-errors.ts';
import type { StatsMetrics } from './stats-metrics.ts';
import { listAlerts } from './storage/alerts-store.ts';

/** What the app reads of StatsConfig: the bounds on slow and abusive clients, where the built page is. */
export type StatsAppConfig = ClientLimits & {
  /** The built results page (STATS_UI_DIR); default DEFAULT_UI_DIR. */
  uiDir?: string;
};

export interface StatsDeps {
  config: StatsAppConfig;
  catalog: ProjectCatalog;
  clickhouse: ClickHouseClient;
  logger: Logger;
  metrics: StatsMetrics;
  /** The hosted sink's status (readyz); undefined when the sink runs elsewhere or SINK_ENABLED=false. */
  sinkStatus?: () => SinkStatus;
  /** Clock of `computed_at` (tests pin it). */
  now?: () => Date;
  /**
   * Each experiment's newest counted event, kept from the hosted sink's inserts (freshness-tracker.ts); without
   * one (no sink in this process, tests) values are read from ClickHouse and reused for 2 s.
   */
  freshness?: FreshnessTracker;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildStatsApp(deps: StatsDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  let closing = false;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: false,
    ...clientLimitServerOptions(config, {
      errorFor: (code, message) => new StatsHttpError(code, message),
      logger: deps.logger,
      metrics,
    }),
  });
  limitConnections(app.server, config.maxConnections, metrics);

  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendHttpError(toStatsError(error, request), request, reply),
  );
  addRequestBasics(app, {
    notFound: (message) => new StatsHttpError('not_found', message),
    whileClosing: () =>
      closing
        ? new StatsHttpError('shutting_down', 'the stats service is shutting down', { retryAfterSeconds: 2 })
        : undefined,
  });
  addSecurityHeaders(app);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    request.log.debug(
      { route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
  app.addHook('preClose', async () => {
    closing = true;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'liftstream stats',
        version: '1',
        description:
          'Experiment results from ClickHouse aggregates, as defined in docs/semantics.md. Every error answer is ' +
          '{ "error": { "code", "message" } }.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(
    resultsRoutes({
      catalog: deps.catalog,
      clickhouse: deps.clickhouse,
      metrics,
      now: deps.now ?? (() => new Date()),
      freshness:
        deps.freshness ??
        new FreshnessTracker({
          load: (project, experiment) => newestCountedEvents(deps.clickhouse, { project, experiment }),
          maintained: false,
        }),
    }),
  );
  await app.register(
    timeseriesRoutes({
      catalog: deps.catalog,
      clickhouse: deps.clickhouse,
      metrics,
      now: deps.now ?? (() => new Date()),
    }),
  );
  await app.register(srmRoutes({ catalog: deps.catalog, clickhouse: deps.clickhouse }));
  await app.register(uiRoutes({ dir: config.uiDir ?? DEFAULT_UI_DIR }));
  await app.register(
    alertsRoutes({ catalog: deps.catalog, listAlerts: (listing) => listAlerts(deps.clickhouse, listing) }),
  );
  await app.register(
    ingestSummaryRoutes({
      catalog: deps.catalog,
      clickhouse: deps.clickhouse,
      now: deps.now ?? (() => new Date()),
    }),
  );
  await app.register(opsRoutes({ clickhouse: deps.clickhouse, metrics, sinkStatus: deps.sinkStatus }));
  return app;
}

/** Any error to the one error format; unknown errors become 500 without their details. */
function toStatsError(error: FastifyError, request: FastifyRequest): StatsHttpError {
  if (error instanceof StatsHttpError) return error;
  if (error.code === 'FST_ERR_VALIDATION' && error.validation !== undefined) {
    const first = error.validation[0];
    const missing = (first?.params as { missingProperty?: unknown } | undefined)?.missingProperty;
    const name =
      typeof missing === 'string'
        ? missing
        : (first?.instancePath ?? '').replace(/^\//, '').split('/')[0] || '?';
    const where = error.validationContext === 'params' ? 'path parameter' : 'parameter';
    return new StatsHttpError(
      'invalid_parameter',
      typeof missing === 'string'
        ? `${where} "${name}" is required`
        : `${where} "${name}" ${first?.message ?? 'is invalid'}`,
    );
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new StatsHttpError('invalid_parameter', error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return new StatsHttpError('internal_error', `internal error; request id ${request.id}`);
}
