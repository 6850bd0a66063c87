/**
 * The page's client of the stats API: same origin (the CSP allows no other), the read key as the bearer,
 * nothing cached. Every failure becomes an ApiError with the API's own code and message, or `network`
 * when no answer came.
 */
import type {
  CatalogueAnswer,
  ErrorAnswer,
  EventResultsAnswer,
  ExperimentsAnswer,
  IngestSummaryAnswer,
  MetricResultsAnswer,
  SrmListAnswer,
  TimeseriesAnswer,
} from './api-types.ts';

export class ApiError extends Error {
  constructor(
    /** HTTP status, 0 when no answer came. */
    readonly status: number,
    /** The API's error code (stats-errors.ts), or `network` / `bad_answer`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | undefined>;

export interface Api {
  experiments(signal?: AbortSignal): Promise<ExperimentsAnswer>;
  srm(signal?: AbortSignal): Promise<SrmListAnswer>;
  catalogue(signal?: AbortSignal): Promise<CatalogueAnswer>;
  /** The catalogue shape: the metric set, or `metrics`, optionally by `dimension`. */
  metricResults(experiment: string, query: Query, signal?: AbortSignal): Promise<MetricResultsAnswer>;
  /** One event's figures (`?metric=<event>`). */
  eventResults(experiment: string, event: string, signal?: AbortSignal): Promise<EventResultsAnswer>;
  timeseries(experiment: string, query: Query, signal?: AbortSignal): Promise<TimeseriesAnswer>;
  /** The project's ingest counts over the last `hours`. */
  ingestSummary(hours: number, signal?: AbortSignal): Promise<IngestSummaryAnswer>;
}

/**
 * @param onRefused called when the API refuses the key (401, or 403 for a key that may not read), so the
 *   app can sign the user out; the call still fails with its ApiError.
 */
export function createApi(readKey: string, onRefused?: (error: ApiError) => void, base = '/v1'): Api {
  const get = async <T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
    const url = `${base}${path}${params.size > 0 ? `?${params}` : ''}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${readKey}`, accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'network', 'the stats service did not answer (network error)');
    }
    const body = (await res.json().catch(() => null)) as unknown;
    if (res.ok && body !== null) return body as T;
    const error = (body as Partial<ErrorAnswer> | null)?.error;
    const failure = new ApiError(
      res.status,
      error?.code ?? 'bad_answer',
      error?.message ?? `HTTP ${res.status} without an error body`,
    );
    if (res.status === 401 || res.status === 403) onRefused?.(failure);
    throw failure;
  };
  const experimentPath = (experiment: string) => `/experiments/${encodeURIComponent(experiment)}`;
  return {
    experiments: (signal) => get('/experiments', {}, signal),
    srm: (signal) => get('/srm', {}, signal),
    catalogue: (signal) => get('/metrics', {}, signal),
    metricResults: (experiment, query, signal) => get(`${experimentPath(experiment)}/results`, query, signal),
    eventResults: (experiment, event, signal) =>
      get(`${experimentPath(experiment)}/results`, { metric: event }, signal),
    timeseries: (experiment, query, signal) =>
      get(`${experimentPath(experiment)}/results/timeseries`, query, signal),
    ingestSummary: (hours, signal) => get('/ingest/summary', { hours: String(hours) }, signal),
  };
}
