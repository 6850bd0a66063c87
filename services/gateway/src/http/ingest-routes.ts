/**
 * POST /v1/batch, /v1/track, /v1/exposure, /v1/alias: authenticate, validate, encode, hand the
 * records to Kafka and answer only once they are acknowledged (acks=all). CORS, keys, rate limits and
 * compressed bodies are the access hooks' (ingest-access.ts), run before each handler.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import type { GatewayConfig } from '../config.ts';
import type { DiscoveredEvents } from '../ingest/discovered-events.ts';
import type { IngestOutcomeRecorder } from '../ingest-reports/outcome-ledger.ts';
import { prepareIngest } from '../ingest/prepare-ingest.ts';
import type { IngestResponse } from '../ingest/prepare-ingest.ts';
import type { BatchEncoder } from '../transport/confluent-encoder.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import { ProduceFailure } from '../transport/batch-coalescer.ts';
import type { IngestSink } from '../transport/ingest-producer.ts';
import { createValidationContext } from '../validation/index.ts';
import type { EventDefinitions, EventKind } from '../validation/index.ts';
import { GatewayHttpError } from './http-errors.ts';
import { ingestAccessHooks } from './ingest-access.ts';
import { registerIngestCors } from './ingest-cors.ts';
import { registerKeyRateLimit } from './key-rate-limit.ts';
import { createOriginPolicy } from './origin-policy.ts';
import { fromSegmentEvent } from '../ingest/segment-events.ts';
import { batchInput, singleEventInput } from './request-body.ts';
import type { BatchInput } from './request-body.ts';
import {
  BatchBody,
  IngestQuery,
  IngestResponseSchema,
  SingleEventBody,
  errorResponses,
  ingestSecurity,
} from './route-schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the ingest routes' access hooks once the key is known; null before and elsewhere. */
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
  /** MAX_BODY_BYTES, which also bounds a decompressed body. */
  maxBodyBytes: number;
  defaultRateLimits: GatewayConfig['defaultRateLimits'];
  backfillMs: number;
  maxFutureMs: number;
  retryAfterSeconds: number;
  metrics: GatewayMetrics;
  /** Per-project outcomes, counted where `metrics.events` is (no project label there: see gateway-metrics.ts). */
  outcomes: IngestOutcomeRecorder;
  discovered: DiscoveredEvents;
  now: () => number;
  newEventId: () => string;
}

const SEGMENT_TYPES = ['track', 'identify', 'alias'] as const;
/** The Segment compatibility routes' prefix: Segment senders take it as their host. */
export const SEGMENT_PREFIX = '/compat/segment';

/** The ingest paths, which CORS serves. */
export const INGEST_PATHS = [
  '/v1/batch',
  '/v1/track',
  '/v1/exposure',
  '/v1/alias',
  `${SEGMENT_PREFIX}/v1/batch`,
  ...SEGMENT_TYPES.map((t) => `${SEGMENT_PREFIX}/v1/${t}`),
] as const;
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
    // The process counters see every attempt: rejections and drops are final whatever Kafka does,
    // acceptance only once acknowledged. Counted per code, not per event: a label lookup per event costs
    // more than the count is worth.
    const rejected = countBy(prepared.response.rejected, (r) => r.code);
    const dropped = countBy(prepared.verdict.dropped, (d) => d.reason);
    for (const [code, n] of rejected) events.inc({ outcome: 'rejected', code }, n);
    for (const [code, n] of dropped) events.inc({ outcome: 'dropped', code }, n);
    if (prepared.records.length > 0) {
      try {
        await deps.sink.submit(prepared.records, prepared.bytes);
      } catch (err) {
        throw toHttpError(err, deps.retryAfterSeconds);
      }
      events.inc({ outcome: 'accepted', code: '' }, prepared.records.length);
    }
    // The project's ingest report counts a request once, when its answer is final: a 503 (Kafka did not
    // take the batch) makes the client resend the whole batch, whose rejections would otherwise count twice.
    const { outcomes } = deps;
    for (const [code, n] of rejected) outcomes.rejected(project, code, n, ctx.receivedAt);
    for (const [code, n] of dropped) outcomes.dropped(project, code, n, ctx.receivedAt);
    if (prepared.records.length > 0) outcomes.accepted(project, prepared.records.length, deps.now());
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
    const origins = createOriginPolicy(deps.catalog);
    // CORS first: its hook answers preflights before any other hook of these routes runs.
    await registerIngestCors(app, INGEST_PATHS, origins);
    const rateLimit = await registerKeyRateLimit(app, {
      catalog: deps.catalog,
      defaults: deps.defaultRateLimits,
      metrics: deps.metrics,
    });
    const access = ingestAccessHooks({
      catalog: deps.catalog,
      origins,
      rateLimit,
      maxBodyBytes: deps.maxBodyBytes,
    });
    const security = ingestSecurity;

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
          querystring: IngestQuery,
          body: BatchBody,
          response: { 200: IngestResponseSchema, ...errorResponses },
        },
        validatorCompiler: describedOnly,
        ...access,
      },
      async (request) => ingest(request, batchInput(request.body, deps.maxBatchEvents)),
    );

    for (const kind of ['track', 'exposure', 'alias'] as const) {
      app.post(
        `/v1/${kind}`,
        {
          schema: {
            summary: `Ingest one ${kind} event`,
            description:
              `The body is one event; "type" may be omitted and must be "${kind}" if present. ` +
              'A client key may come as its "api_key" field (taken out before validation).',
            security,
            querystring: IngestQuery,
            body: SingleEventBody(kind),
            response: { 200: IngestResponseSchema, ...errorResponses },
          },
          validatorCompiler: describedOnly,
          ...access,
        },
        async (request) => ingest(request, singleEventInput(request.body), kind),
      );
    }

    // Segment compatibility: the same access rules, Segment's camelCase events (ingest/segment-events.ts).
    const segment = (input: BatchInput, type?: (typeof SEGMENT_TYPES)[number]): BatchInput => ({
      events: input.events.map((e) => fromSegmentEvent(e, type)),
      malformed: input.malformed,
    });
    const segmentDescription =
      'Segment HTTP Tracking API shape (messageId, anonymousId, userId, ...): track, "Experiment Viewed" (an ' +
      'exposure), alias, and identify with both ids (an alias); mapped field by field, then validated as usual. ' +
      'Authorization may also be Basic with the key as user name, as Segment libraries send it.';
    /** One Segment-shaped route: the same schema, access hooks and validation as its siblings. */
    const segmentRoute = (path: string, summary: string, toInput: (body: unknown) => BatchInput): void => {
      app.post(
        `${SEGMENT_PREFIX}/v1/${path}`,
        {
          schema: {
            summary,
            description: segmentDescription,
            security,
            querystring: IngestQuery,
            response: { 200: IngestResponseSchema, ...errorResponses },
          },
          validatorCompiler: describedOnly,
          ...access,
        },
        async (request) => ingest(request, toInput(request.body)),
      );
    };
    segmentRoute('batch', 'Ingest a batch of Segment-shaped events', (body) =>
      segment(batchInput(body, deps.maxBatchEvents)),
    );
    for (const type of SEGMENT_TYPES) {
      segmentRoute(type, `Ingest one Segment-shaped ${type} event`, (body) =>
        segment(singleEventInput(body), type),
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
