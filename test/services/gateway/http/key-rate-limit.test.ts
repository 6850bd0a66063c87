/** Per-key rate limits through the real app with a fake producer (app.inject). */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../helpers/gateway-app.ts';
import { APP_KEYS, appCatalogJson, buildTestApp, trackEvent } from '../../../helpers/gateway-app.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
});

async function send(app: TestApp, key: string, where: 'header' | 'body' = 'header') {
  const res = await app.app.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: {
      'content-type': 'application/json',
      ...(where === 'header' ? { authorization: `Bearer ${key}` } : {}),
    },
    payload: JSON.stringify({ batch: [trackEvent()], ...(where === 'body' ? { api_key: key } : {}) }),
  });
  return { status: res.statusCode, headers: res.headers, body: res.json() as Record<string, unknown> };
}

/** Refusals counted for `role`; the metric names no project (/metrics answers without a key). */
async function metric(app: TestApp, role: string): Promise<number> {
  const m = await app.metrics.registry.getSingleMetric('liftstream_gateway_rate_limited_total')?.get();
  expect(
    m?.values.every((v) => !('project' in v.labels)),
    'no project label',
  ).toBe(true);
  return m?.values.find((v) => v.labels['role'] === role)?.value ?? NaN;
}

describe('per-key rate limits', () => {
  it("refuses a client key over its project's limit with 429, Retry-After and the usual error shape", async () => {
    t = await buildTestApp({
      catalogJson: appCatalogJson({ shopRateLimits: { client: { perSecond: 0.5, burst: 3 } } }),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(t, APP_KEYS.shopClient)).status);
    expect(statuses, 'the burst').toEqual([200, 200, 200]);
    const refused = await send(t, APP_KEYS.shopClient);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after'], 'one token every 2 s').toBe('2');
    expect(refused.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect((refused.body['error'] as { message: string }).message).toMatch(
      /client key of project "shop" sent more than 0.5 requests per second \(burst 3; the project's "rateLimits.client"\)/,
    );
    expect(t.submitted, 'nothing of the refused request was produced').toHaveLength(3);
    expect(await metric(t, 'client')).toBe(1);
    expect(await metric(t, 'write'), 'series exist from the start').toBe(0);
  });

  it('limits a key sent in the body too (after reading it)', async () => {
    t = await buildTestApp({
      catalogJson: appCatalogJson({ shopRateLimits: { client: { perSecond: 1, burst: 1 } } }),
    });
    expect((await send(t, APP_KEYS.shopClient, 'body')).status).toBe(200);
    expect((await send(t, APP_KEYS.shopClient, 'body')).status).toBe(429);
  });

  it("does not slow another project's keys, nor another key of the same project", async () => {
    t = await buildTestApp({
      catalogJson: appCatalogJson({ shopRateLimits: { client: { perSecond: 1, burst: 1 } } }),
    });
    await send(t, APP_KEYS.shopClient);
    expect((await send(t, APP_KEYS.shopClient)).status).toBe(429);
    expect((await send(t, APP_KEYS.blogClient)).status).toBe(200);
    expect((await send(t, APP_KEYS.shopWrite)).status).toBe(200);
  });

  it('uses the RATE_LIMIT_CLIENT_* defaults for a project without rateLimits', async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_CLIENT_PER_SECOND: '1', RATE_LIMIT_CLIENT_BURST: '2' } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(t, APP_KEYS.blogClient)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('leaves write keys unlimited by default, and limits them with RATE_LIMIT_WRITE_PER_SECOND', async () => {
    t = await buildTestApp();
    for (let i = 0; i < 50; i++) expect((await send(t, APP_KEYS.blogWrite)).status).toBe(200);
    await t.app.close();
    t = await buildTestApp({ env: { RATE_LIMIT_WRITE_PER_SECOND: '1', RATE_LIMIT_WRITE_BURST: '1' } });
    expect((await send(t, APP_KEYS.blogWrite)).status).toBe(200);
    expect((await send(t, APP_KEYS.blogWrite)).status).toBe(429);
    expect(await metric(t, 'write')).toBe(1);
  });
});
