import pino, { type Logger, type LevelWithSilent } from 'pino';
import { redactUrl } from './redact-url.ts';

export type { Logger };

/**
 * JSON logs (pino) with credentials redacted wherever they might appear: API keys must never reach a log.
 */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'apiKey',
        'api_key',
        'body.api_key',
        'key',
        '*.password',
      ],
      censor: '[redacted]',
    },
    // fastify logs requests with this serializer (this instance's serializers win over its own): the
    // URL may carry a client key (?api_key=), so it is redacted; headers are never logged.
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  });
}
