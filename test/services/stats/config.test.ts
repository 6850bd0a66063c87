import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStatsConfig } from '../../../services/stats/src/config.ts';

describe('loadStatsConfig', () => {
  it('applies the defaults, deriving the sink group from the topic prefix', () => {
    const config = loadStatsConfig({ PROJECTS_FILE: 'projects.json', TOPIC_PREFIX: 'test-1.' });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8090);
    expect(config.sinkEnabled, 'the sink runs by default').toBe(true);
    expect(config.sink).toEqual({
      topicPrefix: 'test-1.',
      groupId: 'test-1.clickhouse-sink',
      batchRows: 50_000,
      flushMode: 'adaptive',
      flushIntervalMs: 400,
      insertShare: 0.25,
      fetchMinBytes: 262_144,
      sessionTimeoutMs: 30_000,
      retry: { initialMs: 200, maxMs: 30_000 },
      embeddedClickHouse: true,
      concurrency: 64,
      state: { store: 'disk', dir: path.join(os.tmpdir(), 'liftstream-sink-state') },
    });
  });

  it('refuses an unknown SINK_FLUSH_MODE, naming it', () => {
    expect(() => loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_FLUSH_MODE: 'eager' })).toThrow(
      /SINK_FLUSH_MODE/,
    );
  });

  it('reads SINK_INSERT_SHARE and refuses a share outside (0, 1], naming the variable and the rule', () => {
    expect(loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_INSERT_SHARE: '0.5' }).sink.insertShare).toBe(0.5);
    expect(loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_INSERT_SHARE: '1' }).sink.insertShare).toBe(1);
    expect(() => loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_INSERT_SHARE: '0' })).toThrow(
      /SINK_INSERT_SHARE.*greater than 0/,
    );
    expect(() => loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_INSERT_SHARE: '1.5' })).toThrow(
      /SINK_INSERT_SHARE.*at most 1/,
    );
    expect(() => loadStatsConfig({ PROJECTS_FILE: 'p.json', SINK_INSERT_SHARE: 'half' })).toThrow(
      /SINK_INSERT_SHARE/,
    );
  });

  it('keeps the sink totals in the heap with SINK_STATE_STORE=memory, and refuses other stores', () => {
    const base = { PROJECTS_FILE: 'projects.json' };
    expect(loadStatsConfig({ ...base, SINK_STATE_STORE: 'memory' }).sink.state).toEqual({ store: 'memory' });
    expect(() => loadStatsConfig({ ...base, SINK_STATE_STORE: 'redis' })).toThrow(/SINK_STATE_STORE/);
  });

  it('reads the sink settings and knows a ClickHouse server is not embedded', () => {
    const config = loadStatsConfig({
      PROJECTS_FILE: 'p.json',
      SINK_ENABLED: 'false',
      SINK_GROUP_ID: 'my-sink',
      SINK_BATCH_ROWS: '1000',
      SINK_FLUSH_MODE: 'interval',
      SINK_FLUSH_INTERVAL_MS: '250',
      CLICKHOUSE_URL: 'http://clickhouse:8123',
    });
    expect(config.sink.flushMode, 'the behaviour before issue 19 stays selectable').toBe('interval');
    expect(config.sinkEnabled).toBe(false);
    expect(config.sink.groupId).toBe('my-sink');
    expect(config.sink.batchRows).toBe(1_000);
    expect(config.sink.flushIntervalMs).toBe(250);
    expect(config.sink.embeddedClickHouse, 'CLICKHOUSE_URL set').toBe(false);
  });

  it('bounds connections and slow clients by default, tighter than the gateway (a read API)', () => {
    expect(loadStatsConfig({ PROJECTS_FILE: 'p.json' })).toMatchObject({
      maxConnections: 1_000,
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
    });
  });

  it('reads the client bounds and fails naming HEADERS_TIMEOUT_MS when it exceeds REQUEST_TIMEOUT_MS', () => {
    expect(
      loadStatsConfig({ PROJECTS_FILE: 'p.json', MAX_CONNECTIONS: '50', KEEP_ALIVE_TIMEOUT_MS: '5000' }),
    ).toMatchObject({ maxConnections: 50, keepAliveTimeoutMs: 5_000 });
    expect(() =>
      loadStatsConfig({ PROJECTS_FILE: 'p.json', HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow(/HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
  });

  it("serves the results page from the checkout's dist/ui by default, or from STATS_UI_DIR", () => {
    const repoRoot = path.resolve(import.meta.dirname, '../../..');
    expect(loadStatsConfig({ PROJECTS_FILE: 'p.json' }).uiDir, 'run from source').toBe(
      path.join(repoRoot, 'dist', 'ui'),
    );
    expect(loadStatsConfig({ PROJECTS_FILE: 'p.json', STATS_UI_DIR: '/srv/ui' }).uiDir).toBe('/srv/ui');
  });

  it('fails naming the bad variables', () => {
    expect(() => loadStatsConfig({ STATS_PORT: '70000', SINK_BATCH_ROWS: '2000000' })).toThrow(
      /PROJECTS_FILE.*STATS_PORT|STATS_PORT.*PROJECTS_FILE/,
    );
    expect(() => loadStatsConfig({ PROJECTS_FILE: 'p', SINK_BATCH_ROWS: '2000000' })).toThrow(
      /SINK_BATCH_ROWS/,
    );
  });
});
