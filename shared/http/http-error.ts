import type { HttpErrorLike } from './send-http-error.ts';

/** The services' one error body: `{ "error": { "code", "message" } }`. */
export interface HttpErrorBody<Code extends string> {
  error: { code: Code; message: string };
}

/**
 * A refused request, thrown from parsers and handlers and turned into an answer by sendHttpError. Each
 * service subclasses it with its own code catalogue, which decides the status.
 */
export class HttpError<Code extends string> extends Error implements HttpErrorLike {
  readonly code: Code;
  readonly statusCode: number;
  /** Seconds for a Retry-After header (503s). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: Code,
    statusCode: number,
    message: string,
    opts: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.statusCode = statusCode;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  body(): HttpErrorBody<Code> {
    return { error: { code: this.code, message: this.message } };
  }
}
