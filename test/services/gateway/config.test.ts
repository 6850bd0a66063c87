import { describe, expect, it } from 'vitest';
import { LiftstreamError } from '../../../shared/errors.ts';
import { loadGatewayConfig } from '../../../services/gateway/src/config.ts';

describe('loadGatewayConfig', () => {
  it("applies the issue's defaults with units in the names", () => {
    const config = loadGatewayConfig({ PROJECTS_FILE: '/etc/liftstream/projects.json' });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      maxBatchEvents: 1000,
      maxBodyBytes: 1024 * 1024,
      backfillMs: 30 * 86_400_000,
      maxFutureMs: 300_000,
      produceTimeoutMs: 5_000,
    });
    expect(config.maxCoalescedBytes, 'a send fits the broker default message.max.bytes').toBeLessThan(
      1_048_588,
    );
  });

  it('fails naming PROJECTS_FILE when it is missing', () => {
    expect(() => loadGatewayConfig({})).toThrow(LiftstreamError);
    expect(() => loadGatewayConfig({})).toThrow(/PROJECTS_FILE/);
  });

  it('fails naming every malformed variable', () => {
    expect(() =>
      loadGatewayConfig({ PROJECTS_FILE: 'p.json', GATEWAY_PORT: '70000', LINGER_MS: '-1' }),
    ).toThrow(/GATEWAY_PORT.*LINGER_MS|LINGER_MS.*GATEWAY_PORT/);
  });

  it('bounds connections and slow clients by default', () => {
    expect(loadGatewayConfig({ PROJECTS_FILE: 'p.json' })).toMatchObject({
      maxConnections: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
    });
  });

  it('fails naming HEADERS_TIMEOUT_MS when it exceeds REQUEST_TIMEOUT_MS', () => {
    expect(() =>
      loadGatewayConfig({ PROJECTS_FILE: 'p.json', HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4000' }),
    ).toThrow(/HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
  });

  it('converts BACKFILL_DAYS to milliseconds', () => {
    expect(loadGatewayConfig({ PROJECTS_FILE: 'p.json', BACKFILL_DAYS: '7' }).backfillMs).toBe(
      7 * 86_400_000,
    );
  });
});
