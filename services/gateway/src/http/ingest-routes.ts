/**
 * POST /v1/batch, /v1/track, /v1/exposure, /v1/alias: authenticate, validate, encode, hand the
 * records to Kafka and answer only once they are acknowledged (acks=all).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import type { DiscoveredEvents } from '../ingest/discovered-events.ts';
import { prepareIngest } from '../ingest/prepare-ingest.ts';
import type { IngestResponse } from '../ingest/prepare-ingest.ts';
import type { BatchEncoder } from '../transport/confluent-encoder.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import { ProduceFailure } from '../transport/batch-coalescer.ts';
import type { IngestSink } from '../transport/ingest-producer.ts';
import { createValidationContext } from '../validation/index.ts';
import type { EventDefinitions, EventKind } from '../validation/index.ts';
import { authorizeIngest } from './auth.ts';
import { GatewayHttpError } from './http-errors.ts';
import { batchInput, singleEventInput } from './request-body.ts';
import type { BatchInput } from './request-body.ts';
import { BatchBody, IngestResponseSchema, SingleEventBody, errorResponses } from './route-schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the ingest routes' auth hook; null elsewhere. */
    principal: Principal | null;
  }
}

export interface IngestRouteDeps {
  catalog: ProjectCatalog;
  definitions: ReadonlyMap<string, EventDefinitions>;
  sink: IngestSink;
  /** The registered ingest schema's encoder, undefined until the registry has answered. */
  encoder: () => BatchEncoder | undefined;
  maxBatchEvents: number;
  backfillMs: number;
  maxFutureMs: number;
  retryAfterSeconds: number;
  metrics: GatewayMetrics;
  discovered: DiscoveredEvents;
  now: () => number;
  newEventId: () => string;
}

const security = [{ bearerAuth: [] }];
/**
 * Body schemas document the routes but are not enforced by fastify: each event is validated on its
 * own (validation/), and an ndjson body is not the JSON shape the schema describes.
 */
const describedOnly = () => () => true;

/** Registers the ingest routes on `app` (an encapsulated plugin: the auth hook applies to them only). */
export function ingestRoutes(deps: IngestRouteDeps) {
  const ingest = async (
    request: FastifyRequest,
    input: BatchInput,
    kindHint?: EventKind,
  ): Promise<IngestResponse> => {
    const principal = request.principal as Principal;
    const encoder = deps.encoder();
    if (encoder === undefined) {
      throw new GatewayHttpError(
        'not_ready',
        'the ingest schema is not registered yet (is the schema registry reachable?); nothing was accepted',
        { retryAfterSeconds: deps.retryAfterSeconds },
      );
    }
    const project = principal.project.id;
    const ctx = createValidationContext({
      project,
      receivedAt: deps.now(),
      definitions: deps.definitions.get(project) as EventDefinitions,
      maxFutureMs: deps.maxFutureMs,
      backfillMs: deps.backfillMs,
      ...(kindHint ? { kindHint } : {}),
    });
    const prepared = prepareIngest(input, ctx, encoder, deps.newEventId);
    const { events, warnings } = deps.metrics;
    // Rejections and drops are final whatever Kafka does; acceptance only once acknowledged.
    // Counted per code, not per event: a label lookup per event costs more than the count is worth.
    for (const [code, n] of countBy(prepared.response.rejected, (r) => r.code))
      events.inc({ outcome: 'rejected', code, project }, n);
    for (const [code, n] of countBy(prepared.verdict.dropped, (d) => d.reason))
      events.inc({ outcome: 'dropped', code, project }, n);
    if (prepared.records.length > 0) {
      try {
        await deps.sink.submit(prepared.records, prepared.bytes);
      } catch (err) {
        throw toHttpError(err, deps.retryAfterSeconds);
      }
      events.inc({ outcome: 'accepted', code: '', project }, prepared.records.length);
    }
    for (const [code, n] of countBy(prepared.response.warnings, (w) => w.code)) warnings.inc({ code }, n);
    for (const name of new Set(prepared.verdict.undefinedEvents.map((u) => u.name))) {
      if (deps.discovered.note(project, name)) {
        deps.metrics.discoveredEventNames.inc();
        request.log.info({ project, event: name }, 'discovered an event name without a definition');
      }
    }
    return prepared.response;
  };

  return async function plugin(app: FastifyInstance): Promise<void> {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      request.principal = authorizeIngest(request.headers.authorization, deps.catalog);
    });

    app.post(
      '/v1/batch',
      {
        schema: {
          summary: 'Ingest a batch of events',
          description:
            'Each event is validated on its own: bad events are reported in `rejected` and never block the good ones. ' +
            'The answer comes once Kafka acknowledged the accepted events (acks=all); on 503 nothing was accepted ' +
            'and a retry with the same message_ids is safe.',
          security,
          body: BatchBody,
          response: { 200: IngestResponseSchema, ...errorResponses },
        },
        validatorCompiler: describedOnly,
      },
      async (request) => ingest(request, batchInput(request.body, deps.maxBatchEvents)),
    );

    for (const kind of ['track', 'exposure', 'alias'] as const) {
      app.post(
        `/v1/${kind}`,
        {
          schema: {
            summary: `Ingest one ${kind} event`,
            description: `The body is one event; "type" may be omitted and must be "${kind}" if present.`,
            security,
            body: SingleEventBody(kind),
            response: { 200: IngestResponseSchema, ...errorResponses },
          },
          validatorCompiler: describedOnly,
        },
        async (request) => ingest(request, singleEventInput(request.body), kind),
      );
    }
  };
}

/** A produce failure as the producer should see it: 503 with Retry-After, nothing accepted. */
function toHttpError(err: unknown, retryAfterSeconds: number): unknown {
  if (!(err instanceof ProduceFailure)) return err;
  const opts = { retryAfterSeconds, cause: err };
  switch (err.reason) {
    case 'overloaded':
      return new GatewayHttpError(
        'overloaded',
        `the gateway is overloaded (${err.message}); nothing was accepted`,
        opts,
      );
    case 'closed':
      return new GatewayHttpError(
        'shutting_down',
        'the gateway is shutting down; nothing was accepted',
        opts,
      );
    default:
      return new GatewayHttpError(
        'kafka_unavailable',
        `${err.message}; nothing was accepted, retry later`,
        opts,
      );
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** The default id source: a random UUID per accepted event. */
export const randomEventId = (): string => randomUUID();
