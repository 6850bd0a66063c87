import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { redactUrl } from '../../../shared/logging/redact-url.ts';

describe('redactUrl', () => {
  it.each([
    ['/v1/batch?api_key=lsc_secret', '/v1/batch?api_key=[redacted]'],
    ['/v1/batch?x=1&api_key=lsc_secret&y=2', '/v1/batch?x=1&api_key=[redacted]&y=2'],
    ['/v1/batch?api_key=a&api_key=b', '/v1/batch?api_key=[redacted]&api_key=[redacted]'],
    ['/v1/batch?API_KEY=lsc_secret#frag', '/v1/batch?API_KEY=[redacted]#frag'],
    ['/v1/batch?apiKey=s&key=t', '/v1/batch?apiKey=[redacted]&key=[redacted]'],
    ['/v1/batch', '/v1/batch'],
    ['/v1/batch?my_api_key=x', '/v1/batch?my_api_key=x'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('the services logger', () => {
  it('redacts the key in the URL of a logged request (fastify uses this serializer)', () => {
    const logger = createLogger('test', 'info');
    const serializer = (logger as unknown as Record<symbol, Record<string, (v: unknown) => unknown>>)[
      pino.symbols.serializersSym
    ]?.['req'];
    expect(serializer?.({ method: 'POST', url: '/v1/batch?api_key=lsc_secret' })).toMatchObject({
      url: '/v1/batch?api_key=[redacted]',
    });
  });
});
