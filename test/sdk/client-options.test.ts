import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../sdk/src/client-options.ts';

const base = { endpoint: 'https://ingest.example.com/', key: 'lsw_k' };

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions(base);
    expect(o).toMatchObject({
      url: 'https://ingest.example.com/v1/batch',
      flushAt: 20,
      flushIntervalMs: 5_000,
      maxBatchEvents: 500,
      maxBatchBytes: 512_000,
      maxQueueSize: 10_000,
      maxExposureKeys: 10_000,
      gzip: true,
      gzipMinBytes: 1_024,
      requestTimeoutMs: 10_000,
      retry: { baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 },
      beacon: true,
      flushOnExit: true,
      exitTimeoutMs: 5_000,
      flushTimeoutMs: 10_000,
      stampTimestamps: true,
      context: {},
    });
    expect(o.onError, 'silent in Node unless asked').toBeUndefined();
  });

  it('throws a TypeError naming the bad option', () => {
    expect(() => resolveOptions({ ...base, endpoint: 'ingest.example.com' })).toThrow(/endpoint/);
    expect(() => resolveOptions({ ...base, key: ' ' })).toThrow(/key/);
    expect(() => resolveOptions({ ...base, flushAt: 0 })).toThrow(
      /flushAt must be a whole number ≥ 1, got 0/,
    );
    expect(() => resolveOptions({ ...base, maxQueueSize: 1.5 })).toThrow(/maxQueueSize/);
    expect(() => resolveOptions({ ...base, retry: { baseDelayMs: -1 } })).toThrow(/retry.baseDelayMs/);
    expect(() => resolveOptions(undefined as never)).toThrow(TypeError);
  });
});
