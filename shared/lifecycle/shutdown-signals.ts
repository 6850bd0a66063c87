import type { Logger } from '../logging/logger.ts';

/** How a service asks for its own clean stop when it cannot go on. */
export interface ShutdownControl {
  /** Stops as on SIGTERM (stop taking work, finish what is in flight, close clients), then exits 1. */
  fail(reason: string): void;
}

/**
 * Graceful stop on SIGTERM/SIGINT: `close` stops taking work, finishes what is in flight and closes
 * clients; the process then exits 0 (or 1 if closing failed). A second signal exits at once, for an
 * operator who does not want to wait. `fail` does the same stop for a fault the service cannot heal
 * (a full disk), with exit code 1 so a supervisor sees it.
 */
export function exitGracefullyOnSignals(
  service: string,
  logger: Logger,
  close: () => Promise<void>,
): ShutdownControl {
  let stopping = false;
  const stop = (exitCode: 0 | 1): void => {
    stopping = true;
    close().then(
      () => {
        logger.info(`${service} stopped`);
        process.exit(exitCode);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    stop(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    fail(reason) {
      if (stopping) return;
      logger.fatal({ reason }, `${service} cannot go on; stopping cleanly (exit code 1)`);
      stop(1);
    },
  };
}
