/**
 * Client keys, where keys may travel, Origin checks and CORS of the ingest routes, through the real
 * app with a fake producer (app.inject: no sockets, no Kafka).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../helpers/gateway-app.ts';
import {
  APP_KEYS,
  BLOG_ORIGIN,
  SHOP_ORIGIN,
  buildTestApp,
  trackEvent,
} from '../../../helpers/gateway-app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.app.close();
});

const batch = (extra: Record<string, unknown> = {}) => JSON.stringify({ batch: [trackEvent()], ...extra });

async function post(opts: {
  url?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const res = await t.app.inject({
    method: 'POST',
    url: opts.url ?? '/v1/batch',
    headers: { 'content-type': 'application/json', ...opts.headers },
    payload: opts.body ?? batch(),
  });
  return { status: res.statusCode, headers: res.headers, json: res.json() };
}

const errorCode = (json: Record<string, unknown>) => (json['error'] as { code: string }).code;
const errorMessage = (json: Record<string, unknown>) => (json['error'] as { message: string }).message;

describe('keys', () => {
  it('accepts a client key in the Authorization header', async () => {
    const res = await post({ headers: { authorization: `Bearer ${APP_KEYS.shopClient}` } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json['accepted']).toBe(1);
    expect(t.submitted[0]?.key.toString()).toBe('shop/u-1');
  });

  it('accepts a client key in the query string', async () => {
    const res = await post({ url: `/v1/batch?api_key=${APP_KEYS.shopClient}` });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
  });

  it('accepts a client key as "api_key" in a text/plain JSON body (a beacon) and takes it out', async () => {
    const res = await post({
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: batch({ api_key: APP_KEYS.shopClient }),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json['accepted']).toBe(1);
  });

  it('takes the key out of a single-event body, so it is not reported as an unknown field', async () => {
    const res = await post({
      url: '/v1/track',
      body: JSON.stringify({ ...trackEvent(), api_key: APP_KEYS.shopClient }),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const codes = (res.json['warnings'] as { code: string }[]).map((w) => w.code);
    expect(codes, 'no unknown_field warning for api_key').not.toContain('unknown_field');
  });

  it('still accepts a write key in the header', async () => {
    const res = await post({ headers: { authorization: `Bearer ${APP_KEYS.shopWrite}` } });
    expect(res.status).toBe(200);
  });

  it.each([
    ['the query string', { url: `/v1/batch?api_key=${APP_KEYS.shopWrite}` }],
    ['the body', { body: batch({ api_key: APP_KEYS.shopWrite }) }],
  ])('refuses a write key in %s with 403 explaining that write keys are secrets', async (_, req) => {
    const res = await post(req);
    expect(res.status).toBe(403);
    expect(errorCode(res.json)).toBe('forbidden');
    expect(errorMessage(res.json)).toMatch(
      /write keys are secrets and may only be sent in the Authorization header/,
    );
    expect(errorMessage(res.json), 'the key is not echoed').not.toContain(APP_KEYS.shopWrite);
    expect(t.submitted).toEqual([]);
  });

  it('refuses a read key with 403 wherever it comes', async () => {
    const res = await post({ headers: { authorization: `Bearer ${APP_KEYS.shopRead}` } });
    expect(res.status).toBe(403);
    expect(errorMessage(res.json)).toMatch(/read key of project "shop"/);
  });

  it('refuses a request without any key with 401 naming the three places', async () => {
    const res = await post({});
    expect(res.status).toBe(401);
    expect(errorMessage(res.json)).toMatch(/Authorization: Bearer.*api_key/);
  });

  it('refuses a key given twice with 400', async () => {
    const res = await post({
      url: `/v1/batch?api_key=${APP_KEYS.shopClient}`,
      headers: { authorization: `Bearer ${APP_KEYS.shopClient}` },
    });
    expect(res.status).toBe(400);
    expect(errorMessage(res.json)).toMatch(/given twice/);
  });

  it('refuses an api_key that is not a string with 401 naming the field', async () => {
    const res = await post({ body: batch({ api_key: 42 }) });
    expect(res.status).toBe(401);
    expect(errorMessage(res.json)).toMatch(/"api_key" in the body must be a non-empty string/);
  });

  it('refuses an ndjson body without a key, saying where the key goes', async () => {
    const res = await post({
      headers: { 'content-type': 'application/x-ndjson' },
      body: JSON.stringify(trackEvent()),
    });
    expect(res.status).toBe(401);
    expect(errorMessage(res.json)).toMatch(/ndjson body cannot carry one/);
  });
});

describe('origins of client keys', () => {
  const client = { authorization: `Bearer ${APP_KEYS.shopClient}` };

  it.each([SHOP_ORIGIN, 'https://a.shop.example', 'https://a.b.shop.example'])(
    'accepts a listed origin %s',
    async (origin) => {
      const res = await post({ headers: { ...client, origin } });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
    },
  );

  it.each([
    ['another project’s origin', BLOG_ORIGIN],
    ['a look-alike', 'https://shop.example.evil.test'],
    ['another scheme', 'http://shop.example'],
    ['another port', 'https://shop.example:8443'],
    ['a path trick', 'https://evil.test/.shop.example'],
    ['null (sandboxed frames, file:)', 'null'],
    ['garbage', '\u0000<script>'.repeat(50)],
  ])('refuses %s with 403 naming the origin and the project setting', async (_, origin) => {
    const res = await post({ headers: { ...client, origin } });
    expect(res.status).toBe(403);
    expect(errorCode(res.json)).toBe('origin_not_allowed');
    expect(errorMessage(res.json)).toContain('"allowedOrigins"');
    expect(errorMessage(res.json)).toContain('project "shop"');
    expect(errorMessage(res.json).length, 'a hostile origin is not echoed whole').toBeLessThan(400);
    expect(t.submitted).toEqual([]);
  });

  it('gives the page CORS headers on the 403 of an origin another project lists, so it can read why', async () => {
    const res = await post({ headers: { ...client, origin: BLOG_ORIGIN } });
    expect(res.headers['access-control-allow-origin']).toBe(BLOG_ORIGIN);
  });

  it('accepts a client key without Origin (a server or script: Origin is a browser protection)', async () => {
    const res = await post({ headers: client });
    expect(res.status).toBe(200);
  });

  it('does not check the origin of a write key', async () => {
    const res = await post({
      headers: { authorization: `Bearer ${APP_KEYS.shopWrite}`, origin: 'https://anything.test' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin'], 'no CORS for an unlisted origin').toBeUndefined();
  });
});

describe('CORS preflight', () => {
  const preflight = (origin: string | undefined, url = '/v1/batch') =>
    t.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        ...(origin === undefined ? {} : { origin }),
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, content-encoding',
      },
    });

  it('answers 204 with the allowed origin, methods, headers and max age for a listed origin', async () => {
    const res = await preflight(SHOP_ORIGIN);
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': SHOP_ORIGIN,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, content-encoding',
      'access-control-max-age': '7200',
    });
    expect(String(res.headers['vary'])).toMatch(/origin/i);
    expect(t.submitted).toEqual([]);
  });

  it.each(['/v1/track', '/v1/exposure', '/v1/alias', '/v1/batch?api_key=x'])('serves %s', async (url) => {
    expect((await preflight(BLOG_ORIGIN, url)).statusCode).toBe(204);
  });

  it('refuses an origin no project lists with 403 naming it', async () => {
    const res = await preflight('https://evil.test');
    expect(res.statusCode).toBe(403);
    expect(errorCode(res.json())).toBe('origin_not_allowed');
    expect(errorMessage(res.json())).toContain('"https://evil.test"');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives routes other than ingest no CORS', async () => {
    expect((await preflight(SHOP_ORIGIN, '/metrics')).statusCode).toBe(404);
  });
});

describe('Segment compatibility routes', () => {
  it('accepts a Segment batch with Basic auth (key as user name), mapping camelCase fields', async () => {
    const basic = Buffer.from(`${APP_KEYS.shopWrite}:`).toString('base64');
    const res = await post({
      url: '/compat/segment/v1/batch',
      headers: { authorization: `Basic ${basic}` },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            event: 'Order Completed',
            userId: 'u-9',
            messageId: 'm-9',
            properties: { revenue: 3 },
          },
          {
            type: 'track',
            event: 'Experiment Viewed',
            anonymousId: 'a-9',
            properties: { experiment_id: 'e', variation_id: 'v' },
          },
          { type: 'page', userId: 'u-9' },
        ],
        sentAt: '2026-12-05T10:00:01.000Z',
      }),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json['accepted']).toBe(2);
    expect(res.json['rejected']).toMatchObject([{ index: 2, code: 'invalid_kind' }]);
    expect(t.submitted.map((r) => r.key.toString())).toEqual(['shop/u-9', 'shop/a-9']);
  });

  it('serves single Segment events and CORS preflights', async () => {
    const res = await post({
      url: `/compat/segment/v1/track?api_key=${APP_KEYS.shopClient}`,
      body: JSON.stringify({ event: 'Signed Up', userId: 'u-1' }),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/compat/segment/v1/batch',
      headers: { origin: SHOP_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
  });
});
