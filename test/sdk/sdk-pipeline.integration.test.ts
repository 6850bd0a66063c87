/**
 * The SDK against the real gateway and pipeline, through a proxy that drops connections, answers 503
 * with Retry-After, and drops the gateway's answer after the gateway accepted a batch (the retry then
 * sends events that are already in). The stats service's results must equal the reference over the
 * events the application created: each counted exactly once.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient, type LiftstreamClient, type LiftstreamError } from '../../sdk/src/index.ts';
import { startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { awaitScenarioResults, replay, sdkScenario, type SdkScenario } from '../helpers/sdk-scenario.ts';

const PROJECT = 'sdk_node';
const CONVERGE_TIMEOUT_MS = 90_000;
/** Per request, in turn: every fault several times, with passes between them. */
const FAULT_CYCLE: Fault[] = [
  'lose-response',
  'pass',
  'reset',
  'unavailable',
  'pass',
  'lose-response',
  'unavailable',
];

describe('SDK → gateway → pipeline with injected network failures: every event counts once', () => {
  let pipeline: Pipeline;
  let proxy: FaultProxy;
  let scenario: SdkScenario;
  let client: LiftstreamClient;
  const errors: LiftstreamError[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: [{ id: PROJECT, attribution: 'cumulative' }],
    });
    proxy = await startFaultProxy({
      target: pipeline.gatewayUrl,
      faultFor: (n) => FAULT_CYCLE[n % FAULT_CYCLE.length] as Fault,
      retryAfterSeconds: 1,
    });
    scenario = sdkScenario({ seed: 1414, users: 150, now: Date.now() });
  }, 300_000);

  afterAll(async () => {
    await client?.close({ timeoutMs: 1_000 });
    await proxy?.close();
    await pipeline?.stop();
  });

  it('delivers every event despite resets, 503s and lost answers, reporting nothing', async () => {
    client = createClient({
      endpoint: proxy.url,
      key: pipeline.keys[PROJECT]?.write as string,
      flushAt: 40,
      maxBatchEvents: 60,
      flushIntervalMs: 200,
      retry: { baseDelayMs: 100, maxDelayMs: 1_000 },
      // Every batch gzipped, so the proxy can read them all the same way.
      gzipMinBytes: 0,
      onError: (e) => errors.push(e),
    });
    replay(client, scenario.calls);
    const flushed = await client.flush({ timeoutMs: 60_000 });
    expect(flushed, 'everything answered for').toEqual({ pending: 0 });
    expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);
    const stats = client.stats();
    const created = scenario.calls.length - scenario.repeatedExposures;
    expect(stats.delivered, 'events the gateway answered 200 for').toBe(created);
    expect(stats.exposuresDeduplicated).toBe(scenario.repeatedExposures);
    const counts = proxy.counts();
    expect(counts['lose-response'], 'answers lost after the gateway accepted').toBeGreaterThanOrEqual(2);
    expect(counts.reset).toBeGreaterThanOrEqual(1);
    expect(counts.unavailable).toBeGreaterThanOrEqual(2);
    expect(stats.retries, 'each injected failure was retried').toBe(
      counts['lose-response'] + counts.reset + counts.unavailable,
    );
    // The lost answers were 200s: those events were in Kafka before their retry.
    const lostAccepted = proxy.requests.filter(
      (r) => r.fault === 'lose-response' && r.upstreamStatus === 200,
    );
    expect(lostAccepted.length, 'batches the gateway accepted twice').toBe(counts['lose-response']);
    for (const r of proxy.requests.filter((q) => q.upstreamStatus !== undefined)) {
      const sent = (JSON.parse(gunzipSync(r.body).toString('utf8')) as { batch: unknown[] }).batch.length;
      expect(JSON.parse(r.upstreamBody ?? '{}'), 'every event of every batch accepted').toMatchObject({
        accepted: sent,
        rejected: [],
        dropped: 0,
      });
    }
    expect(
      proxy.requests.every((r) => r.contentEncoding === 'gzip'),
      'batches went gzipped (CompressionStream in Node)',
    ).toBe(true);
  });

  it('serves results equal to the reference: duplicates from retries count once', async () => {
    expect(
      await awaitScenarioResults({
        statsUrl: pipeline.statsUrl,
        readKey: pipeline.keys[PROJECT]?.read as string,
        project: PROJECT,
        scenario,
        timeoutMs: CONVERGE_TIMEOUT_MS,
      }),
    ).toEqual({});
  });
});
