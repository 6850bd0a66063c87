import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildProcessorHttp } from '../../../../services/processor/src/http/processor-http.ts';

describe('buildProcessorHttp', () => {
  const registry = new Registry();
  new Counter({ name: 'liftstream_processor_test_total', help: 'test', registers: [registry] }).inc(3);
  let ready = false;

  it('answers /healthz while the process is up', async () => {
    const app = await buildProcessorHttp({ registry, isReady: () => ready });
    const res = await app.inject('/healthz');
    expect([res.statusCode, res.json()]).toEqual([200, { status: 'ok' }]);
    await app.close();
  });

  it('answers /readyz 503 until the tasks are ready, then 200', async () => {
    const app = await buildProcessorHttp({ registry, isReady: () => ready });
    ready = false;
    expect((await app.inject('/readyz')).statusCode, 'not ready').toBe(503);
    ready = true;
    expect((await app.inject('/readyz')).statusCode, 'ready').toBe(200);
    await app.close();
  });

  it('serves the registry in Prometheus text format and an OpenAPI document', async () => {
    const app = await buildProcessorHttp({ registry, isReady: () => ready });
    const metrics = await app.inject('/metrics');
    expect(metrics.body, 'the registry sample').toContain('liftstream_processor_test_total 3');
    expect(metrics.headers['content-type']).toContain('text/plain');
    const doc = (await app.inject('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/metrics', '/readyz']);
    await app.close();
  });
});
