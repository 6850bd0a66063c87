/**
 * The stats API as the read commands (`experiments`, `results`) reach it: where (--url, LIFTSTREAM_URL),
 * with which key (LIFTSTREAM_READ_KEY, never an option: a key on the command line lands in shell history
 * and in every `ps` listing), how long to wait, and each failure turned into one line and an exit code.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { CliError, EXIT, failure, unavailable, usageError } from './cli-error.ts';

export const DEFAULT_STATS_URL = 'http://127.0.0.1:8090';
const DEFAULT_TIMEOUT_SECONDS = 30;
const URL_RULE = 'an http(s) URL without credentials, query or fragment';

/** The options every read command takes, parsed with its own. */
export const statsApiOptions = {
  url: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

/** Their lines in each command's --help, and the environment they read. */
export const statsApiOptionsHelp = `  --url URL           the stats API (default: $LIFTSTREAM_URL, else ${DEFAULT_STATS_URL})
  --timeout SECONDS   longest wait for each answer (default: ${DEFAULT_TIMEOUT_SECONDS})
  --json              print the API's JSON answer as it came, instead of a table
  -h, --help          show this help

The read key comes from the environment variable LIFTSTREAM_READ_KEY (a key lsr_... of the project,
printed by liftstream projects init or keys create --role read), never from an option: a key on the
command line would be kept in shell history and shown to anyone who lists processes (ps).`;

export interface StatsApi {
  /** Base URL without a trailing slash; a path prefix (a proxy's /stats) is kept. */
  url: string;
  key: string;
  timeoutMs: number;
}

/** The target of a read command from its options and the environment; a CliError naming what is wrong. */
export function statsApiFrom(
  values: { url?: string | undefined; timeout?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  command: string,
): StatsApi {
  const url = targetUrl(values.url, env['LIFTSTREAM_URL'], command);
  const seconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw usageError(`--timeout must be a number of seconds in (0, 3600], got "${values.timeout}"`, command);
  }
  const key = env['LIFTSTREAM_READ_KEY']?.trim();
  if (!key) {
    throw failure(
      'LIFTSTREAM_READ_KEY is not set; export a read key of the project (lsr_..., printed by ' +
        'liftstream projects init or liftstream keys create --role read)',
    );
  }
  return { url, key, timeoutMs: seconds * 1000 };
}

/** The API's answer: JSON on success, its error (code and message) otherwise. Refusals are values. */
export type ApiAnswer =
  | { ok: true; status: number; text: string; body: unknown }
  | { ok: false; status: number; code: string | undefined; message: string; retryAfter: string | null };

/**
 * GET `path` with `query` (undefined values left out). Throws only when there is no answer to give:
 * unreachable, timed out (exit 3), or a 2xx that is not JSON (exit 1: --url is not the stats API).
 */
export async function getFromStats(
  api: StatsApi,
  path: string,
  query: Readonly<Record<string, string | undefined>> = {},
): Promise<ApiAnswer> {
  const url = new URL(`${api.url}${path}`);
  for (const [name, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(name, value);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${api.key}`, accept: 'application/json' },
      signal: AbortSignal.timeout(api.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    throw unreachable(api, err);
  }
  const body = parseJson(text);
  if (res.ok) {
    if (body === undefined) throw notStatsApi(api, `answered ${res.status} with a body that is not JSON`);
    return { ok: true, status: res.status, text, body };
  }
  const error = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
  return {
    ok: false,
    status: res.status,
    code: typeof error?.['code'] === 'string' ? error['code'] : undefined,
    message: typeof error?.['message'] === 'string' ? error['message'] : `${res.status} ${res.statusText}`,
    retryAfter: res.headers.get('retry-after'),
  };
}

/**
 * The one line and exit code of a refused request: the API's own message, its status and code, and what
 * to do about it. `hint` (a command's own, such as a closer experiment name) goes after them.
 */
export function refusal(
  api: Pick<StatsApi, 'url'>,
  answer: Extract<ApiAnswer, { ok: false }>,
  hint?: string,
): CliError {
  const { status, code, message } = answer;
  const said = `${message} (${status}${code ? ` ${code}` : ''})${hint ? `; ${hint}` : ''}`;
  if (code === undefined) {
    // Not the services' error format: a proxy, a load balancer or another server on that port.
    const tail = `from ${api.url}, which is not the stats API's error; check --url or LIFTSTREAM_URL`;
    return status === 502 || status === 503 || status === 504
      ? unavailable(`${status} ${tail}`)
      : failure(`${status} ${tail}`);
  }
  if (status === 401)
    return failure(
      `the stats API refused the key: ${said}; set LIFTSTREAM_READ_KEY to a read key of the project`,
    );
  if (status === 403)
    return failure(
      `the stats API refused the key: ${said}; LIFTSTREAM_READ_KEY must be a read key (lsr_...)`,
    );
  if (status === 503) {
    const wait = answer.retryAfter ? `try again in ${answer.retryAfter} s` : 'try again shortly';
    return unavailable(`${said}; ${wait}`);
  }
  return new CliError(EXIT.failure, said);
}

function unreachable(api: StatsApi, err: unknown): CliError {
  if (err instanceof Error && err.name === 'TimeoutError') {
    return unavailable(
      `the stats API at ${api.url} did not answer within ${api.timeoutMs / 1000} s; try again, or give it longer with --timeout`,
      err,
    );
  }
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
  return unavailable(
    `cannot reach the stats API at ${api.url} (${why}); is the stats service running there? Set --url or LIFTSTREAM_URL`,
    err,
  );
}

/** A 2xx answer that is not what the stats API sends: --url points at some other server. */
export function notStatsApi(api: Pick<StatsApi, 'url'>, what: string): CliError {
  return failure(`${api.url} ${what}; is it the stats API? Set --url or LIFTSTREAM_URL`);
}

function httpUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.username || url.password || url.search || url.hash) return undefined;
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** --url (a usage error when malformed), else LIFTSTREAM_URL (a configuration failure), else the default. */
function targetUrl(option: string | undefined, fromEnv: string | undefined, command: string): string {
  if (option !== undefined) {
    const url = httpUrl(option);
    if (url === undefined) throw usageError(`--url must be ${URL_RULE}, got "${option}"`, command);
    return url;
  }
  if (!fromEnv) return DEFAULT_STATS_URL;
  const url = httpUrl(fromEnv);
  if (url === undefined)
    throw failure(`LIFTSTREAM_URL must be ${URL_RULE}, got "${fromEnv}"; fix it or pass --url`);
  return url;
}

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
