/**
 * Stats entry point: load and validate the configuration, migrate ClickHouse, start the hosted sink
 * (SINK_ENABLED), listen, and shut down gracefully on SIGTERM/SIGINT (stop taking requests, answer those
 * in flight, stop the sink, close ClickHouse). A second signal exits at once.
 */
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadStatsConfig } from './config.ts';
import { createStatsService } from './stats-service.ts';

async function main(): Promise<void> {
  const config = loadStatsConfig();
  const logger = createLogger('stats', config.logLevel);
  const service = await createStatsService(config, logger);

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    service.close().then(
      () => {
        logger.info('stats stopped');
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

  const address = await service.app.listen({ host: config.host, port: config.port });
  logger.info(
    {
      address,
      clickhouse: config.clickhouse.url ?? `embedded chDB in ${config.clickhouse.dataDir}`,
      sink: config.sinkEnabled ? config.sink.groupId : 'disabled',
    },
    `stats listening on ${address}`,
  );
}

main().catch((err: unknown) => {
  // The logger may not exist yet (bad configuration): print the reason plainly.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
