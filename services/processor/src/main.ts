import { createKafka } from '../../../shared/kafka/kafka-client.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { loadProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { loadProcessorConfig } from './config.ts';
import { buildProcessorHttp } from './http/processor-http.ts';
import { StreamProcessor } from './stream-processor.ts';

/**
 * Entry point: config, clients, the processor, its HTTP endpoint; SIGTERM/SIGINT stop it
 * gracefully (transactions in progress finish or abort, the group is left, clients close).
 * An unrecoverable processor error exits non-zero so the supervisor restarts the instance,
 * which then restores its state from the changelogs.
 */
async function main(): Promise<void> {
  const config = loadProcessorConfig();
  const logger = createLogger('processor', config.logLevel);
  const catalog = loadProjectCatalog(config.projectsFile);
  catalog.assertCupedWithinRetention(config.retentionMs / 86_400_000);
  const kafka = createKafka(config.kafka, `${config.appId}-${process.pid}`, logger);
  const registry = new AvroSchemaRegistry(config.registryUrl);
  const processor = new StreamProcessor({
    config,
    kafka,
    registry,
    catalog,
    logger,
    onFatal: () => void shutdown('fatal error', 1),
  });
  const http = await buildProcessorHttp({
    registry: processor.metrics.registry,
    isReady: () => processor.isReady(),
  });

  let stopping = false;
  async function shutdown(reason: string, code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(code || 1);
    }, config.shutdownGraceMs);
    force.unref();
    await http.close().catch(() => undefined);
    await processor.stop().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    logger.info('stopped');
    process.exit(code);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));

  await http.listen({ host: config.host, port: config.port });
  logger.info({ url: `http://${config.host}:${config.port}` }, 'processor health and metrics listening');
  await processor.start();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
