import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { processorKafkaLogCreator } from '../../../../services/processor/src/transport/kafka-logging.ts';

function capture(): { logger: Logger; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const sink = Object.fromEntries(
    ['error', 'warn', 'info', 'debug'].map((level) => [
      level,
      (_extra: object, msg: string) => lines.push([level, msg]),
    ]),
  );
  // A stand-in for pino: only child() and the four level methods are used.
  const logger = { child: () => sink } as unknown as Logger;
  return { logger, lines };
}

describe('processorKafkaLogCreator', () => {
  it('drops the bounded-retries warning and passes every other line at its level', () => {
    const { logger, lines } = capture();
    const log = processorKafkaLogCreator(logger)(logLevel.INFO);
    const entry = (level: logLevel, message: string) =>
      log({ namespace: 'Producer', level, label: '', log: { message, timestamp: '' } });
    entry(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees');
    entry(logLevel.WARN, 'Failed to send messages');
    entry(logLevel.ERROR, 'Crash');
    entry(logLevel.DEBUG, 'details');
    expect(lines).toEqual([
      ['warn', 'Failed to send messages'],
      ['error', 'Crash'],
      ['debug', 'details'],
    ]);
  });
});
