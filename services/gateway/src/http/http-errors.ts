/**
 * The gateway's one catalogue of request-level errors (a whole request refused), each with its HTTP
 * status. Per-event problems are not here: they are validation codes reported in a 200 answer
 * (validation/errors.ts), plus `malformed_json` for an ndjson line (ingest/ingest-request.ts).
 * Every error answer has the same body: `{ "error": { "code", "message" } }`. Codes are stable API.
 */
import { HttpError } from '../../../../shared/http/http-error.ts';

export const HTTP_ERRORS = {
  invalid_json: { status: 400, meaning: 'The body is not valid JSON (the message says where).' },
  invalid_body: {
    status: 400,
    meaning: "The JSON is not the expected shape (e.g. no 'batch' array on /v1/batch).",
  },
  invalid_request: {
    status: 400,
    meaning: 'A header or parameter of the request is malformed (or the key is given in two places).',
  },
  invalid_encoding: {
    status: 400,
    meaning: 'The body does not decompress with its Content-Encoding (corrupt or truncated gzip/deflate).',
  },
  unauthorized: {
    status: 401,
    meaning:
      'No key (Authorization: Bearer <key>; client keys also ?api_key= or "api_key"), or an unknown key.',
  },
  forbidden: {
    status: 403,
    meaning:
      'The key is valid but may not do this: a read key on ingest, or a write key outside the Authorization header.',
  },
  origin_not_allowed: {
    status: 403,
    meaning: "A client key used from a page whose Origin is not in its project's allowedOrigins.",
  },
  not_found: { status: 404, meaning: 'No such route.' },
  request_timeout: {
    status: 408,
    meaning:
      'The headers did not arrive within HEADERS_TIMEOUT_MS or the whole request within REQUEST_TIMEOUT_MS; the connection is closed.',
  },
  body_too_large: { status: 413, meaning: 'The body exceeds MAX_BODY_BYTES.' },
  too_many_events: { status: 413, meaning: 'The batch holds more events than MAX_BATCH_EVENTS.' },
  unsupported_media_type: {
    status: 415,
    meaning: 'Content-Type is not application/json, application/x-ndjson or text/plain (JSON).',
  },
  unsupported_encoding: {
    status: 415,
    meaning: 'Content-Encoding is not gzip, deflate or identity.',
  },
  rate_limited: {
    status: 429,
    meaning: "The key sent more requests than its project's rate limit; retry after Retry-After seconds.",
  },
  headers_too_large: { status: 431, meaning: "The request headers exceed node's 16 KiB limit." },
  internal_error: { status: 500, meaning: 'A defect in the gateway; the request id is in the message.' },
  kafka_unavailable: {
    status: 503,
    meaning: 'Kafka did not acknowledge the records in time; nothing was accepted, retry later.',
  },
  overloaded: { status: 503, meaning: 'Too much is already waiting for Kafka; nothing was accepted.' },
  not_ready: {
    status: 503,
    meaning: 'The gateway is starting (schema not registered yet); nothing was accepted.',
  },
  shutting_down: { status: 503, meaning: 'The gateway is stopping; nothing was accepted.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The body of every error answer. */
/** A refused request; thrown from parsers and handlers, turned into an answer by the error handler. */
export class GatewayHttpError extends HttpError<HttpErrorCode> {
  constructor(
    code: HttpErrorCode,
    message: string,
    opts: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, HTTP_ERRORS[code].status, message, opts);
    this.name = 'GatewayHttpError';
  }
}
