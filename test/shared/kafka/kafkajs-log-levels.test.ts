import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLogLevel } from '../../../shared/kafka/kafkajs-log-levels.ts';

describe('kafkajsLogLevel', () => {
  it('demotes the retried concurrent-transaction responses (as kafkajs logged them in the soak)', () => {
    const response = kafkajsLogLevel(logLevel.ERROR, {
      message: 'Response AddPartitionsToTxn(key: 24, version: 1)',
      error:
        'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
    });
    expect(response).toEqual({ level: 'debug', note: expect.stringContaining('kafkajs retries') });
    const send = kafkajsLogLevel(logLevel.ERROR, {
      message:
        'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
    });
    expect(send.level).toBe('debug');
  });

  it('explains the bounded-retries warning of the idempotent producer', () => {
    expect(
      kafkajsLogLevel(logLevel.WARN, {
        message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees',
      }),
    ).toEqual({ level: 'debug', note: expect.stringContaining('bounded on purpose') });
  });

  it.each([
    [logLevel.ERROR, 'error'],
    [logLevel.WARN, 'warn'],
    [logLevel.INFO, 'info'],
    [logLevel.DEBUG, 'debug'],
  ] as const)('keeps the level of anything else (%i → %s)', (level, name) => {
    expect(
      kafkajsLogLevel(level, {
        message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        error: 'x',
      }),
    ).toEqual({ level: name });
  });
});
