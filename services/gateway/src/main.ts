/**
 * Gateway entry point: load and validate the configuration, start the gateway, listen, and shut
 * down gracefully on SIGTERM/SIGINT (stop taking requests, answer those in flight, flush to Kafka,
 * close clients). A second signal exits at once.
 */
import { exitGracefullyOnSignals } from '../../../shared/lifecycle/shutdown-signals.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadGatewayConfig } from './config.ts';
import { createGateway } from './gateway.ts';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.logLevel);
  const gateway = await createGateway(config, logger);

  exitGracefullyOnSignals('gateway', logger, () => gateway.close());

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
