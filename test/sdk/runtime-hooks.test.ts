/**
 * The Node exit hook in real processes: a script that tracks events and simply ends (no flush, no
 * close) still gets them out, and the SDK never holds a process up for longer than exitTimeoutMs when
 * the endpoint does not answer. The script imports the built bundle, as a user's would.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdk, type SdkBuild } from '../helpers/sdk-build.ts';

let sdk: SdkBuild;
beforeAll(() => {
  sdk = buildSdk();
}, 60_000);
afterAll(() => {
  if (sdk) fs.rmSync(sdk.dir, { recursive: true, force: true });
});

/** Runs a script that creates a client for `endpoint`, tracks `n` events and ends. */
function runScript(
  endpoint: string,
  n: number,
  extra = '',
): Promise<{ code: number | null; ms: number; stderr: string }> {
  const script = path.join(sdk.dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(
    script,
    `import { createClient } from ${JSON.stringify(pathToFileURL(sdk.bundleFile).href)};
const client = createClient({ endpoint: ${JSON.stringify(endpoint)}, key: 'lsw_test', ${extra}
  onError: (e) => console.error(e.code, e.events.length) });
for (let i = 0; i < ${n}; i++) client.track({ user_id: 'u-' + i, event: 'purchase', value: i });
`,
  );
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, ms: Date.now() - started, stderr }));
  });
}

describe('the SDK in a Node process that ends', () => {
  it('sends the queued events when the event loop runs empty, then lets the process exit', async () => {
    const received: unknown[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { batch: unknown[] };
        received.push(...body.batch);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: body.batch.length, rejected: [], warnings: [], dropped: 0 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await runScript(endpoint, 7, 'gzip: false,');
      expect(result.stderr, 'nothing reported').toBe('');
      expect(result.code).toBe(0);
      expect(received, 'all seven events, without flush() or close()').toHaveLength(7);
      expect(result.ms, 'not held up by the flush interval').toBeLessThan(4_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('gives up after exitTimeoutMs when the endpoint is unreachable, reporting the events undelivered', async () => {
    // A port nothing listens on: connections are refused, and the SDK keeps retrying until the exit budget is spent.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const result = await runScript(
      `http://127.0.0.1:${port}`,
      3,
      'exitTimeoutMs: 1500, retry: { baseDelayMs: 100 },',
    );
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe('undelivered 3');
    expect(result.ms).toBeGreaterThanOrEqual(1_400);
    expect(result.ms).toBeLessThan(6_000);
  });
});
