/**
 * Stats entry point: load and validate the configuration, migrate ClickHouse, start the hosted sink
 * (SINK_ENABLED), listen, and shut down gracefully on SIGTERM/SIGINT (stop taking requests, answer those
 * in flight, stop the sink, close ClickHouse). A second signal exits at once.
 */
import { exitGracefullyOnSignals } from '../../../shared/lifecycle/shutdown-signals.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadStatsConfig } from './config.ts';
import { createStatsService } from './stats-service.ts';

async function main(): Promise<void> {
  const config = loadStatsConfig();
  const logger = createLogger('stats', config.logLevel);
  // Signals are handled from the start: a SIGTERM during start-up (or a sink failure) waits for the
  // service to exist, then closes it. onFatal is only ever called asynchronously, after `shutdown` exists.
  const starting = createStatsService(config, logger, (reason) => shutdown.fail(reason));
  const shutdown = exitGracefullyOnSignals('stats', logger, async () => (await starting).close());
  const service = await starting;

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
