import type { Logger } from '../logging/logger.ts';

/**
 * Graceful stop on SIGTERM/SIGINT: `close` stops taking work, finishes what is in flight and closes
 * clients; the process then exits 0 (or 1 if closing failed). A second signal exits at once, for an
 * operator who does not want to wait.
 */
export function exitGracefullyOnSignals(service: string, logger: Logger, close: () => Promise<void>): void {
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => {
        logger.info(`${service} stopped`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
