import {
  Kafka,
  logLevel as KafkaLogLevel,
  type KafkaConfig as KafkaJsConfig,
  type logCreator,
} from 'kafkajs';
import { kafkajsLogLevel } from './kafkajs-log-levels.ts';
import type { Logger } from '../logging/logger.ts';
import type { KafkaConfig } from '../config/common-config.ts';

/**
 * The one place a kafkajs client is built, so a faster client with a kafkajs-compatible API could be
 * swapped in behind it (design-notes: PostHog moved to node-rdkafka for throughput).
 */
export function createKafka(
  config: KafkaConfig,
  clientId: string,
  logger: Logger,
  overrides: Partial<KafkaJsConfig> = {},
): Kafka {
  return new Kafka({
    clientId,
    brokers: config.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    // Bounded: a dependency that is down must surface as an error, never as a hang.
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 5_000 },
    ...overrides,
  });
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const mapped = kafkajsLogLevel(level, log);
      logger[mapped.level](mapped.note === undefined ? extra : { ...extra, note: mapped.note }, message);
    };
}
