/**
 * A stand-in for the stats API in unit tests of the CLI: answers canned JSON per path on 127.0.0.1,
 * records what it was asked (path, query, Authorization), and can hold a request without answering.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAnswer {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeStatsApi {
  url: string;
  requests: Array<{ path: string; query: Record<string, string>; authorization: string | undefined }>;
  close(): Promise<void>;
}

/**
 * `answers` by path (without the query): a value, or a function of the query. A path not listed gets the
 * API's 404 not_found; `hang` paths get no answer at all (for timeouts).
 */
export async function startFakeStatsApi(
  answers: Record<string, FakeAnswer | ((query: URLSearchParams) => FakeAnswer)>,
  opts: { hang?: string[] } = {},
): Promise<FakeStatsApi> {
  const requests: FakeStatsApi['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
    });
    if (opts.hang?.includes(url.pathname)) return;
    const found = answers[url.pathname];
    const answer =
      typeof found === 'function'
        ? found(url.searchParams)
        : (found ?? { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The API's error body. */
export function apiError(status: number, code: string, message: string): FakeAnswer {
  return { status, body: { error: { code, message } } };
}
