/**
 * The stats API's one catalogue of error answers, each with its HTTP status. Every error answer has the
 * same body: `{ "error": { "code", "message" } }` (as the gateway's). Codes are stable API.
 */
import { HttpError } from '../../../../shared/http/http-error.ts';

export const STATS_ERRORS = {
  invalid_parameter: {
    status: 400,
    meaning: 'A path or query parameter is missing or malformed; the message names it.',
  },
  invalid_request: {
    status: 400,
    meaning: 'The bytes received are not valid HTTP/1.1; the connection is closed.',
  },
  unauthorized: { status: 401, meaning: 'No Authorization: Bearer <key> header, or an unknown key.' },
  forbidden: { status: 403, meaning: 'The key is valid but may not read results (a write key).' },
  not_found: { status: 404, meaning: 'No such route.' },
  unknown_experiment: { status: 404, meaning: 'The project has no exposure to this experiment.' },
  unknown_metric: {
    status: 404,
    meaning: 'No event of this name was ever attributed in the project, and the project does not define it.',
  },
  request_timeout: {
    status: 408,
    meaning:
      'The headers did not arrive within HEADERS_TIMEOUT_MS or the whole request within REQUEST_TIMEOUT_MS; the connection is closed.',
  },
  headers_too_large: { status: 431, meaning: "The request headers exceed node's 16 KiB limit." },
  internal_error: { status: 500, meaning: 'A defect in the service; the request id is in the message.' },
  invalid_configuration: {
    status: 500,
    meaning:
      "The project's settings (PROJECTS_FILE) cannot be applied to this experiment, e.g. an SRM split missing a variation.",
  },
  data_inconsistent: {
    status: 503,
    meaning: 'The stored exposures and attributed events disagree (the sink is catching up); retry shortly.',
  },
  clickhouse_unavailable: { status: 503, meaning: 'ClickHouse did not answer; retry later.' },
  shutting_down: { status: 503, meaning: 'The service is stopping.' },
  ui_not_built: {
    status: 503,
    meaning: 'The results page under /ui is not built (npm run build:ui); the API works without it.',
  },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type StatsErrorCode = keyof typeof STATS_ERRORS;

/** A refused request; thrown from parsers and handlers, turned into an answer by the error handler. */
export class StatsHttpError extends HttpError<StatsErrorCode> {
  constructor(
    code: StatsErrorCode,
    message: string,
    opts: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, STATS_ERRORS[code].status, message, opts);
    this.name = 'StatsHttpError';
  }
}
