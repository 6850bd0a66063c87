/**
 * One HTTP request over node's http client with any headers (Origin included, which fetch
 * implementations may refuse to set), answering status, headers and body text. A connection the
 * server reset or closed without an answer resolves status 0 with the error's code.
 */
import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** JSON of the body, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
  /** The client error when there was no answer (ECONNRESET, EPIPE, ...). */
  error?: string;
}

export function rawRequest(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent | false;
  },
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = http.request(
      url,
      {
        method: opts.method ?? 'POST',
        agent: opts.agent ?? false,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, headers: {}, text: '', json: undefined, error: err.code ?? err.message }),
    );
    req.end(body);
  });
}
