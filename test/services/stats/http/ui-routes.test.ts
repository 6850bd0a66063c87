/**
 * The results page as the stats app serves it (buildStatsApp over a ClickHouse stand-in, a built page in
 * a temp dir): the page and its assets with a strict CSP, nosniff and cache headers, gzip when accepted,
 * ETag revalidation, nothing outside the directory, 503 naming the build command without a build, and
 * the API's own security headers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CONTENT_SECURITY_POLICY } from '../../../../services/stats/src/http/security-headers.ts';
import { UI_CONTENT_SECURITY_POLICY } from '../../../../services/stats/src/http/ui-routes.ts';
import { sha256Hex } from '../../../../shared/projects/project-catalog.ts';
import { statsAppWithStandIn } from '../../../helpers/stats/stats-app-stand-in.ts';

const INDEX =
  '<!doctype html><link rel="stylesheet" href="assets/app-ABCD1234.css"><script type="module" src="assets/app-WXYZ5678.js"></script>';
const JS = 'console.log("results page");'.repeat(40);
const SECRET = 'content that must not be served';

let dir: string;
let missingDir: string;
let app: FastifyInstance;
let unbuilt: FastifyInstance;

const appServing = (uiDir: string) =>
  statsAppWithStandIn({
    projects: [{ id: 'shop', keys: [{ role: 'read', sha256: sha256Hex('ui-read') }] }],
    uiDir,
  });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-ui-routes-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'app-WXYZ5678.js'), JS);
  fs.writeFileSync(path.join(dir, 'assets', 'app-WXYZ5678.js.gz'), gzipSync(JS));
  fs.writeFileSync(path.join(dir, 'assets', 'app-ABCD1234.css'), 'body{margin:0}');
  fs.writeFileSync(path.join(dir, '.secret'), SECRET);
  fs.writeFileSync(path.join(os.tmpdir(), 'liftstream-ui-routes-outside.txt'), SECRET);
  missingDir = path.join(dir, 'not-built');
  app = await appServing(dir);
  unbuilt = await appServing(missingDir);
});

afterAll(async () => {
  await app?.close();
  await unbuilt?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the results page under /ui', () => {
  it('redirects /ui to /ui/ so relative asset URLs resolve', async () => {
    const res = await app.inject({ method: 'GET', url: '/ui' });
    expect(res.statusCode).toBe(301);
    expect(res.headers['location']).toBe('/ui/');
  });

  it('serves index.html with a strict CSP, nosniff, no framing and revalidation', async () => {
    const res = await app.inject({ method: 'GET', url: '/ui/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(UI_CONTENT_SECURITY_POLICY, 'no inline scripts or styles').not.toMatch(
      /unsafe-inline|unsafe-eval|\*/,
    );
    expect(UI_CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control'], 'index.html must be revalidated: it names the current assets').toBe(
      'no-cache',
    );
  });

  it('caches content-hashed assets for a year and sends their gzip sibling when accepted', async () => {
    const plain = await app.inject({ method: 'GET', url: '/ui/assets/app-WXYZ5678.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.body).toBe(JS);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const gzipped = await app.inject({
      method: 'GET',
      url: '/ui/assets/app-WXYZ5678.js',
      headers: { 'accept-encoding': 'br, gzip;q=0.8' },
    });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['vary']).toBe('accept-encoding');
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(JS);
    const refused = await app.inject({
      method: 'GET',
      url: '/ui/assets/app-WXYZ5678.js',
      headers: { 'accept-encoding': 'gzip;q=0' },
    });
    expect(refused.headers['content-encoding'], 'q=0 refuses gzip').toBeUndefined();
    const css = await app.inject({
      method: 'GET',
      url: '/ui/assets/app-ABCD1234.css',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(css.headers['content-encoding'], 'no .gz sibling: the file as is').toBeUndefined();
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await app.inject({ method: 'GET', url: '/ui/' });
    const etag = first.headers['etag'] as string;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await app.inject({
      method: 'GET',
      url: '/ui/',
      headers: { 'if-none-match': `"x", ${etag}` },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    ['/ui/.secret', 'a dot-file'],
    ['/ui/../liftstream-ui-routes-outside.txt', 'a path out of the directory'],
    ['/ui/%2e%2e/liftstream-ui-routes-outside.txt', 'an encoded path out of the directory'],
    ['/ui/assets/..%2f..%2fliftstream-ui-routes-outside.txt', 'an encoded separator'],
    ['/ui/nothing.js', 'a missing file'],
    ['/ui/index.php', 'a type the page does not have'],
  ])('refuses %s (%s) with 404 in the error format', async (url) => {
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(res.body).not.toContain(SECRET);
  });

  it('answers 503 naming the build command when the page is not built, while the API keeps answering', async () => {
    const res = await unbuilt.inject({ method: 'GET', url: '/ui/' });
    expect(res.statusCode).toBe(503);
    const body = res.json() as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ui_not_built');
    expect(body.error.message).toContain('npm run build:ui');
    expect(body.error.message).toContain(missingDir);
    const api = await unbuilt.inject({ method: 'GET', url: '/v1/experiments' });
    expect(api.statusCode, 'the API answers (here: no key)').toBe(401);
  });

  it('sends nosniff, a no-content CSP and no-store on API answers', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/experiments' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
    expect(res.headers['cache-control']).toBe('no-store');
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
  });

  it('keeps the page out of the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: object };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/ui'))).toEqual([]);
  });
});
