/**
 * Gateway entry point: load and validate the configuration, start the gateway, listen, and shut
 * down gracefully on SIGTERM/SIGINT (stop taking requests, answer those in flight, flush to Kafka,
 * close clients). A second signal exits at once.
 */
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadGatewayConfig } from './config.ts';
import { createGateway } from './gateway.ts';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.logLevel);
  const gateway = await createGateway(config, logger);

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => {
        logger.info('gateway stopped');
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

  const address = await gateway.app.listen({ host: config.host, port: config.port });
  logger.info(
    { address, topic: gateway.topics.ingest, producers: config.producerCount },
    `gateway listening on ${address}`,
  );
}

main().catch((err: unknown) => {
  // The logger may not exist yet (bad configuration): print the reason plainly.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
