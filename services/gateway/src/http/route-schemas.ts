/**
 * Route schemas (TypeBox → JSON Schema): the OpenAPI document is generated from them and fastify
 * serialises answers with them. Request bodies of the ingest routes are described here but NOT
 * validated by fastify: a bad event must be reported alone in a 200 answer with its validation code,
 * never turn the whole request into a 400 (see ingest-routes.ts).
 */
import { Type } from '@sinclair/typebox';
import { HTTP_ERRORS } from './http-errors.ts';
import { REJECTION_CODES, WARNING_CODES } from '../validation/index.ts';
import { MALFORMED_JSON } from '../ingest/prepare-ingest.ts';

const Id = Type.String({ minLength: 1, maxLength: 256 });
const Timestamp = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })], {
  description: 'Unix milliseconds or RFC 3339 date-time with offset; absent = receive time',
});
const Context = Type.Record(Type.String(), Type.String(), {
  description: 'Flat string context; a known bot user_agent drops the event',
});

/** Flat string, number or boolean values; the same rules for exposures and track events. */
const Properties = (description: string) =>
  Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description });

const ExposureEvent = Type.Object(
  {
    type: Type.Literal('exposure'),
    experiment: Id,
    variation: Id,
    user_id: Type.Optional(Id),
    anonymous_id: Type.Optional(Id),
    timestamp: Type.Optional(Timestamp),
    decision_id: Type.Optional(Id),
    properties: Type.Optional(
      Properties(
        "Flat; at most 4 KB as JSON, as a track's. A project's declared dimensions are read from the unit's " +
          'first exposure: properties[d], else context[d]',
      ),
    ),
    message_id: Type.Optional(Id),
    context: Type.Optional(Context),
  },
  { title: 'Exposure', description: 'Needs user_id or anonymous_id' },
);

const TrackEvent = Type.Object(
  {
    type: Type.Literal('track'),
    event: Type.String({ pattern: '^[a-z][a-z0-9_]{0,127}$' }),
    user_id: Type.Optional(Id),
    anonymous_id: Type.Optional(Id),
    timestamp: Type.Optional(Timestamp),
    value: Type.Optional(Type.Number()),
    properties: Type.Optional(Properties('Flat; at most 4 KB as JSON')),
    decision_id: Type.Optional(Id),
    sample: Type.Optional(Type.Number({ minimum: 0.01, maximum: 1 })),
    message_id: Type.Optional(Id),
    context: Type.Optional(Context),
  },
  { title: 'Track', description: 'Needs user_id or anonymous_id' },
);

const AliasEvent = Type.Object(
  {
    type: Type.Literal('alias'),
    anonymous_id: Id,
    user_id: Id,
    timestamp: Type.Optional(Timestamp),
    message_id: Type.Optional(Id),
  },
  { title: 'Alias' },
);

export const EventSchema = Type.Union([ExposureEvent, TrackEvent, AliasEvent]);

/** A client key in a JSON body (beacons); taken out before the events are validated. */
const BodyApiKey = Type.Optional(
  Type.String({
    description:
      'A client key (lsc_), when it is not in the header or URL. Write keys are refused here (403).',
  }),
);

export const BatchBody = Type.Object(
  { batch: Type.Array(EventSchema, { description: 'Up to MAX_BATCH_EVENTS events' }), api_key: BodyApiKey },
  {
    description:
      'JSON { "batch": [...] } (Content-Type application/json, or text/plain holding JSON as beacons send it), or ' +
      'application/x-ndjson with one event per line (a line that is not JSON is rejected alone, code malformed_json). ' +
      'Content-Encoding gzip or deflate is accepted; MAX_BODY_BYTES applies to the decompressed body.',
  },
);

/** The single-event routes: `type` may be omitted (the route says it) but must match if present. */
export const SingleEventBody = (kind: 'track' | 'exposure' | 'alias') =>
  ({ exposure: ExposureEvent, track: TrackEvent, alias: AliasEvent })[kind];

const EventProblem = (codes: readonly string[]) =>
  Type.Object({
    index: Type.Integer({ description: 'Position of the event in the batch (ndjson: non-blank line count)' }),
    code: Type.String({ enum: [...codes] }),
    field: Type.String({ description: "JSON path of the offending field; '' is the event itself" }),
    message: Type.String(),
  });

export const IngestResponseSchema = Type.Object({
  accepted: Type.Integer({ description: 'Events acknowledged by Kafka (acks=all)' }),
  rejected: Type.Array(EventProblem([...REJECTION_CODES, MALFORMED_JSON])),
  warnings: Type.Array(EventProblem(WARNING_CODES)),
  dropped: Type.Integer({ description: 'Events dropped as known bots (counted, not written)' }),
});

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ enum: Object.keys(HTTP_ERRORS) }),
      message: Type.String(),
    }),
  },
  { description: 'Every error answer; 503s carry Retry-After' },
);

const Check = Type.Object({ status: Type.String(), detail: Type.Optional(Type.String()) });

export const ReadyResponseSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    kafka: Check,
    schema: Type.Object({
      status: Type.String(),
      subject: Type.String(),
      id: Type.Optional(Type.Integer()),
      detail: Type.Optional(Type.String()),
    }),
    registry: Check,
  }),
});

export const HealthResponseSchema = Type.Object({ status: Type.Literal('ok') });

/**
 * Who may call the ingest routes (OpenAPI security requirements: any one of them). A client key in the
 * body has no OpenAPI scheme; the body schemas describe its "api_key" field.
 */
export const ingestSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyQuery: [] }];

export const IngestQuery = Type.Object({
  api_key: Type.Optional(
    Type.String({
      description:
        'A client key (lsc_), for senders that cannot set headers (navigator.sendBeacon). Write keys are refused here (403).',
    }),
  ),
});

/** Error answers every route may give. */
export const errorResponses = { '4xx': ErrorSchema, '5xx': ErrorSchema };
