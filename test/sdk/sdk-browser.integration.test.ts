/**
 * The SDK bundle in a real browser (Debian's headless Chromium through playwright-core): a page served
 * from another origin loads the built bundle and creates a client with a client key. It exposes and
 * tracks, flushes half of it by fetch (CORS preflight, gzip, Authorization), queues the other half
 * (flushAt and the interval are out of reach) and navigates away: that half goes by sendBeacon on the
 * way out (text/plain, the key in the body, no preflight). The results must then equal the reference
 * over the page's events: each counted exactly once.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256Hex } from '../../shared/projects/project-catalog.ts';
import { CHROMIUM, CHROMIUM_ARGS, DESKTOP_USER_AGENT, requireChromium } from '../helpers/chromium.ts';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { buildSdk, type SdkBuild } from '../helpers/sdk-build.ts';
import { awaitScenarioResults, sdkScenario, type SdkScenario } from '../helpers/sdk-scenario.ts';

const PROJECT = 'sdk_web';
const CONVERGE_TIMEOUT_MS = 90_000;

/** The test page: replays the calls it is given through the bundle, and says what it holds. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>liftstream SDK test page</title>
<style>body{font:16px system-ui,sans-serif;margin:2em} #status{font-size:22px;font-weight:600}</style></head>
<body><h1>liftstream SDK in the browser</h1><p id="status">loading the SDK bundle…</p><pre id="detail"></pre>
<script type="module">
import { createClient } from './liftstream.min.js';
const params = new URLSearchParams(location.search);
const errors = [];
// Out of reach on purpose: events leave only on flush() (fetch) or when the page goes away (beacon).
const client = createClient({
  endpoint: params.get('endpoint'), key: params.get('key'),
  flushAt: 100000, flushIntervalMs: 3600000, maxQueueSize: 100000,
  onError: (e) => errors.push(e.code + ': ' + e.message),
});
const show = () => {
  const s = client.stats();
  document.getElementById('status').textContent =
    s.delivered + ' events sent by fetch, ' + s.queued + ' events queued, ' + s.exposuresDeduplicated +
    ' repeated exposures skipped, ' + errors.length + ' errors';
  document.getElementById('detail').textContent = 'origin ' + location.origin + '\\nendpoint ' + params.get('endpoint') +
    '\\nkey ' + params.get('key').slice(0, 8) + '…\\n' + errors.join('\\n');
};
window.replay = async (calls, flush) => {
  for (const c of calls) client[c.kind](c.input);
  const flushed = flush ? await client.flush() : undefined;
  show();
  return { stats: client.stats(), errors, flushed };
};
show();
window.sdkReady = true;
</script></body></html>`;

interface PageServer {
  origin: string;
  close(): Promise<void>;
}

async function servePage(bundleFile: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const route = new URL(req.url ?? '/', 'http://x').pathname;
    if (route === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (route === '/liftstream.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(bundleFile));
    } else if (route === '/bye') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>another page</p>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SDK bundle in headless Chromium: the beacon on leaving the page delivers each event once', () => {
  const keys = {
    write: `lsw_${randomBytes(12).toString('hex')}`,
    read: `lsr_${randomBytes(12).toString('hex')}`,
    client: `lsc_${randomBytes(12).toString('hex')}`,
  };
  let workDir: string;
  let sdk: SdkBuild;
  let pageServer: PageServer;
  let pipeline: Pipeline;
  let proxy: FaultProxy;
  let context: BrowserContext;
  let page: Page;
  let scenario: SdkScenario;

  beforeAll(async () => {
    requireChromium();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-sdk-browser-'));
    sdk = buildSdk();
    pageServer = await servePage(sdk.bundleFile);
    // The project allows the page's origin for its client key (the gateway reads this file at start).
    const projectsFile = path.join(workDir, 'projects.json');
    fs.writeFileSync(
      projectsFile,
      JSON.stringify({
        projects: [
          {
            id: PROJECT,
            attribution: 'cumulative',
            allowedOrigins: [pageServer.origin],
            keys: Object.entries(keys).map(([role, key]) => ({ role, sha256: sha256Hex(key) })),
          },
        ],
      }),
    );
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: [{ id: PROJECT, attribution: 'cumulative' }],
      extraEnv: { PROJECTS_FILE: projectsFile },
    });
    // Every request passes; the proxy only records what the browser sent.
    proxy = await startFaultProxy({ target: pipeline.gatewayUrl, faultFor: () => 'pass' });
    context = await chromium.launchPersistentContext(path.join(workDir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 420 },
      // The SDK sends the page's user agent as context.user_agent (helpers/chromium.ts).
      userAgent: DESKTOP_USER_AGENT,
    });
    page = context.pages()[0] ?? (await context.newPage());
    scenario = sdkScenario({ seed: 2026, users: 40, now: Date.now() });
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await proxy?.close();
    await pipeline?.stop();
    await pageServer?.close();
    if (sdk) fs.rmSync(sdk.dir, { recursive: true, force: true });
    if (workDir && process.env['KEEP_E2E_LOGS'] !== '1') fs.rmSync(workDir, { recursive: true, force: true });
    else if (workDir) console.log(`[sdk-browser] screenshot and profile kept in ${workDir}`);
  });

  type PageState = {
    stats: { queued: number; delivered: number; exposuresDeduplicated: number };
    errors: string[];
    flushed?: { pending: number };
  };
  const replayInPage = (calls: unknown[], flush: boolean): Promise<PageState> =>
    page.evaluate(
      ([c, f]) =>
        (globalThis as unknown as { replay: (c: unknown, f: boolean) => Promise<PageState> }).replay(c, f),
      [calls, flush] as const,
    );
  const eventsIn = (r: ProxiedRequest): unknown[] => {
    const text = (r.contentEncoding === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8');
    return (JSON.parse(text) as { batch: unknown[] }).batch;
  };
  let half: number;
  let fetched: number;

  it('flushes by fetch from the other origin: a CORS preflight, then gzipped JSON with the key in Authorization', async () => {
    const query = new URLSearchParams({ endpoint: proxy.url, key: keys.client });
    await page.goto(`${pageServer.origin}/?${query}`);
    await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
    half = Math.floor(scenario.calls.length / 2);
    const state = await replayInPage(scenario.calls.slice(0, half), true);
    expect(state.errors).toEqual([]);
    expect(state.flushed).toEqual({ pending: 0 });
    const preflights = proxy.requests.filter((r) => r.method === 'OPTIONS');
    const posts = proxy.requests.filter((r) => r.method === 'POST');
    expect(preflights.length, 'the Authorization header needs a preflight').toBeGreaterThanOrEqual(1);
    expect(posts.length).toBeGreaterThanOrEqual(1);
    for (const r of posts) {
      expect(r.contentType).toBe('application/json');
      expect(r.contentEncoding, 'CompressionStream in Chromium').toBe('gzip');
      expect(r.authorization).toBe(true);
      expect(r.origin).toBe(pageServer.origin);
      expect(r.upstreamStatus).toBe(200);
      expect(JSON.parse(r.upstreamBody ?? '{}'), 'all accepted').toMatchObject({
        accepted: eventsIn(r).length,
        dropped: 0,
      });
    }
    fetched = posts.reduce((n, r) => n + eventsIn(r).length, 0);
    expect(fetched).toBe(state.stats.delivered);
  });

  it('queues the rest in the page without sending it', async () => {
    const before = proxy.requests.length;
    const state = await replayInPage(scenario.calls.slice(half), false);
    expect(state.errors).toEqual([]);
    expect(state.stats.queued + fetched).toBe(scenario.calls.length - scenario.repeatedExposures);
    expect(state.stats.exposuresDeduplicated).toBe(scenario.repeatedExposures);
    await page.screenshot({ path: path.join(workDir, 'sdk-test-page.png') });
    expect(await page.locator('#status').textContent()).toContain(`${state.stats.queued} events queued`);
    expect(proxy.requests.length, 'nothing sent while the page is open').toBe(before);
  });

  it('sends the rest by beacon when the page is left: text/plain, client key in the body, no preflight', async () => {
    const before = proxy.requests.length;
    await page.goto(`${pageServer.origin}/bye`);
    const expected = scenario.calls.length - scenario.repeatedExposures - fetched;
    const beacons = () => proxy.requests.slice(before);
    const beaconed = () => beacons().reduce((n, r) => n + eventsIn(r).length, 0);
    const deadline = Date.now() + 15_000;
    while (
      (beaconed() < expected || beacons().some((r) => r.upstreamStatus === undefined)) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(beaconed(), 'events in beacons').toBe(expected);
    for (const r of beacons()) {
      expect(r.method, 'a beacon is a simple POST: no preflight').toBe('POST');
      expect(r.path).toBe('/v1/batch');
      expect(r.contentType).toMatch(/^text\/plain/);
      expect(r.authorization).toBe(false);
      expect(r.origin).toBe(pageServer.origin);
      expect((JSON.parse(r.body.toString()) as { api_key: string }).api_key).toBe(keys.client);
      expect(r.upstreamStatus).toBe(200);
      expect(JSON.parse(r.upstreamBody ?? '{}'), 'the gateway accepted every event of it').toMatchObject({
        accepted: eventsIn(r).length,
        dropped: 0,
        rejected: [],
      });
    }
  });

  it('serves results equal to the reference over the page events', async () => {
    expect(
      await awaitScenarioResults({
        statsUrl: pipeline.statsUrl,
        readKey: keys.read,
        project: PROJECT,
        scenario,
        timeoutMs: CONVERGE_TIMEOUT_MS,
      }),
    ).toEqual({});
  });
});
