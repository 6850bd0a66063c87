import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  answerClientError,
  clientLimitServerOptions,
  createClientLimitMetrics,
} from '../../../shared/http/client-limits.ts';
import type { ClientErrorCode, ClientErrorDeps } from '../../../shared/http/client-limits.ts';
import { createLogger } from '../../../shared/logging/logger.ts';

const STATUS: Record<ClientErrorCode, number> = {
  request_timeout: 408,
  headers_too_large: 431,
  invalid_request: 400,
};

/** The deps of a service whose catalogue maps the three codes to their statuses. */
function deps(alreadyAnswered?: (socket: Socket) => boolean): ClientErrorDeps {
  return {
    errorFor: (code, message) => ({
      code,
      message,
      statusCode: STATUS[code],
      retryAfterSeconds: undefined,
      body: () => ({ error: { code, message } }),
    }),
    logger: createLogger('client-limits-test', 'silent'),
    metrics: createClientLimitMetrics('test_', [new Registry()]),
    ...(alreadyAnswered ? { alreadyAnswered } : {}),
  };
}

/** A socket that records what is written to it; `headersSent` fakes node's response in progress. */
function fakeSocket(headersSent = false) {
  const written: string[] = [];
  const socket = {
    destroyed: false,
    writable: true,
    _httpMessage: headersSent ? { headersSent } : null,
    write: (text: string) => written.push(text),
    destroy: () => {
      socket.destroyed = true;
    },
  };
  return { socket: socket as unknown as Socket, written, destroyed: () => socket.destroyed };
}

const parserError = (code: string) => Object.assign(new Error(code), { code });

describe('answerClientError', () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['HPE_INVALID_METHOD', 400, 'invalid_request'],
  ])('answers %s with %i %s in the one error format, then closes', async (code, status, answer) => {
    const d = deps();
    const { socket, written, destroyed } = fakeSocket();
    answerClientError(parserError(code), socket, d);
    const [head, body] = (written[0] ?? '').split('\r\n\r\n');
    expect(head, 'status line and close').toMatch(
      new RegExp(`^HTTP/1\\.1 ${status} .*\\r\\nConnection: close`),
    );
    expect(Object.keys(JSON.parse(body ?? '{}') as object)).toEqual(['error']);
    expect(JSON.parse(body ?? '{}')).toMatchObject({ error: { code: answer } });
    expect(destroyed(), 'connection closed').toBe(true);
    expect((await d.metrics.httpClientErrors.get()).values).toEqual([
      expect.objectContaining({ labels: { code: answer }, value: 1 }),
    ]);
  });

  it('only closes a connection whose request was already answered (no second answer in the stream)', () => {
    for (const { socket, written, destroyed, d } of [
      { ...fakeSocket(true), d: deps() },
      { ...fakeSocket(), d: deps(() => true) },
    ]) {
      answerClientError(parserError('ERR_HTTP_REQUEST_TIMEOUT'), socket, d);
      expect(written, 'nothing written').toEqual([]);
      expect(destroyed()).toBe(true);
    }
  });

  it('ignores a reset connection', () => {
    const { socket, written, destroyed } = fakeSocket();
    answerClientError(parserError('ECONNRESET'), socket, deps());
    expect(written).toEqual([]);
    expect(destroyed(), 'left to node').toBe(false);
  });
});

describe('clientLimitServerOptions', () => {
  it('maps the limits to node and checks the timeouts at most every second', () => {
    const limits = {
      maxConnections: 10,
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
      keepAliveTimeoutMs: 3_000,
    };
    expect(clientLimitServerOptions(limits, deps())).toMatchObject({
      requestTimeout: 5_000,
      keepAliveTimeout: 3_000,
      http: { headersTimeout: 2_000, connectionsCheckingInterval: 500 },
    });
    const long = clientLimitServerOptions({ ...limits, headersTimeoutMs: 10_000 }, deps());
    expect(long.http.connectionsCheckingInterval).toBe(1_000);
  });
});
