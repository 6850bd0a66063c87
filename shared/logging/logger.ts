import pino, { type Logger, type LevelWithSilent } from 'pino';

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
        'key',
        '*.password',
      ],
      censor: '[redacted]',
    },
  });
}
