import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../../../../shared/logging/logger.ts';

/**
 * kafkajs log lines the processor knows not to apply to it: every task producer has bounded
 * retries on purpose (a failed send aborts the transaction, which is redone from the last
 * commit), so kafkajs's "Limiting retries for the idempotent producer may invalidate EoS
 * guarantees", logged at WARN for each of them, would only alarm an operator.
 */
const NOT_APPLICABLE = new Set([
  'Limiting retries for the idempotent producer may invalidate EoS guarantees',
]);

/** kafkajs → pino, as shared/kafka/kafka-client.ts does, minus the lines above. */
export function processorKafkaLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      if (NOT_APPLICABLE.has(message)) return;
      if (level === logLevel.ERROR) kafkaLogger.error(extra, message);
      else if (level === logLevel.WARN) kafkaLogger.warn(extra, message);
      else if (level === logLevel.INFO) kafkaLogger.info(extra, message);
      else kafkaLogger.debug(extra, message);
    };
}
