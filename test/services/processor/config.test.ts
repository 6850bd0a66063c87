import { describe, expect, it } from 'vitest';
import { loadProcessorConfig } from '../../../services/processor/src/config.ts';

describe('loadProcessorConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadProcessorConfig({ PROJECTS_FILE: '/etc/liftstream/projects.json' });
    expect(config.appId).toBe('liftstream-processor');
    expect(config.retentionMs, '30 days').toBe(30 * 86_400_000);
    expect(config.port).toBe(8070);
    expect(config.host).toBe('127.0.0.1');
    expect(config.maxRecordsPerTransaction).toBe(2000);
    expect([config.commitIntervalMs, config.commitMinSpacingMs], 'commit interval; spacing off').toEqual([
      100, 0,
    ]);
    expect(config.transactionFirstRetryMs, "first retry of a transaction's request").toBe(10);
    expect(config.kafka.topicPrefix).toBe('liftstream.');
  });

  it('reads overrides with units converted', () => {
    const config = loadProcessorConfig({
      PROJECTS_FILE: 'p.json',
      PROCESSOR_APP_ID: 'blue',
      RETENTION_DAYS: '7',
      PROCESSOR_PORT: '9000',
      MAX_RECORDS_PER_TRANSACTION: '50',
    });
    expect([config.appId, config.retentionMs, config.port, config.maxRecordsPerTransaction]).toEqual([
      'blue',
      7 * 86_400_000,
      9000,
      50,
    ]);
  });

  it('names every bad variable', () => {
    expect(() => loadProcessorConfig({})).toThrow(/PROJECTS_FILE/);
    expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', PROCESSOR_APP_ID: 'a b' })).toThrow(
      /PROCESSOR_APP_ID/,
    );
    expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', RETENTION_DAYS: '0' })).toThrow(/RETENTION_DAYS/);
    expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', COMMIT_MIN_SPACING_MS: '-5' })).toThrow(
      /COMMIT_MIN_SPACING_MS/,
    );
    expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', COMMIT_MIN_SPACING_MS: 'soon' })).toThrow(
      /COMMIT_MIN_SPACING_MS/,
    );
    expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', COMMIT_MIN_SPACING_MS: '150' })).toThrow(
      /COMMIT_MIN_SPACING_MS: must be at most COMMIT_INTERVAL_MS \(100\), got 150/,
    );
    expect(
      loadProcessorConfig({ PROJECTS_FILE: 'p', COMMIT_MIN_SPACING_MS: '80' }).commitMinSpacingMs,
      'within the interval',
    ).toBe(80);
    const longer = loadProcessorConfig({
      PROJECTS_FILE: 'p',
      COMMIT_INTERVAL_MS: '300',
      COMMIT_MIN_SPACING_MS: '300',
    });
    expect([longer.commitIntervalMs, longer.commitMinSpacingMs]).toEqual([300, 300]);
    for (const bad of ['0', '-10', 'fast', '2001'])
      expect(() => loadProcessorConfig({ PROJECTS_FILE: 'p', TRANSACTION_FIRST_RETRY_MS: bad }), bad).toThrow(
        /TRANSACTION_FIRST_RETRY_MS/,
      );
    expect(
      loadProcessorConfig({ PROJECTS_FILE: 'p', TRANSACTION_FIRST_RETRY_MS: '50' }).transactionFirstRetryMs,
      "the producer's first retry before",
    ).toBe(50);
  });
});
