/**
 * Keys never reach a log: the gateway runs as its own process at the most verbose level, is sent good,
 * wrong and read keys (and client keys in the URL and the body, a write key in the URL, an unknown
 * route with a key in its URL), and its whole log is searched for them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeService, type NodeService } from '../../../infra/local/node-service.ts';
import { freePort } from '../../helpers/pipeline.ts';
import { KEYS, writeProjectsFile } from '../../helpers/gateway-harness.ts';

describe('gateway logs (trace level, separate process)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-logs-'));
  const wrongKey = 'wrong-key-that-must-not-be-logged-7f3a';
  let gateway: NodeService;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = startNodeService({
      name: 'gateway',
      entry: 'services/gateway/src/main.ts',
      env: {
        KAFKA_BROKERS: inject('kafkaBrokers'),
        SCHEMA_REGISTRY_URL: inject('registryUrl'),
        TOPIC_PREFIX: `test-logs-${process.pid}.`,
        TOPIC_PARTITIONS: '2',
        PROJECTS_FILE: writeProjectsFile(dir),
        GATEWAY_PORT: String(port),
        LOG_LEVEL: 'trace',
      },
      readyUrl: `${url}/readyz`,
      logFile: path.join(dir, 'gateway.log'),
    });
    await gateway.ready(120_000);
  }, 150_000);

  afterAll(async () => {
    await gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never writes a write key, a read key or a wrong key into its log', async () => {
    const event = { type: 'track', user_id: 'u1', event: 'purchase' };
    for (const key of [KEYS.acmeWrite, KEYS.acmeRead, wrongKey]) {
      const res = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batch: [event] }),
      });
      expect([200, 401, 403]).toContain(res.status);
    }
    const wrongClient = 'lsc_wrong-client-key-not-logged-9c1e';
    const inUrl = [
      ['/v1/batch', KEYS.acmeClient],
      ['/v1/batch', KEYS.acmeWrite],
      ['/v1/batch', wrongClient],
      ['/v1/nowhere', KEYS.acmeClient],
    ] as const;
    for (const [route, key] of inUrl) {
      const res = await fetch(`${url}${route}?api_key=${key}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ batch: [event] }),
      });
      expect([200, 401, 403, 404]).toContain(res.status);
    }
    const inBody = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ api_key: KEYS.acmeClient, batch: [event] }),
    });
    expect(inBody.status).toBe(200);
    await gateway.stop();
    const log = fs.readFileSync(gateway.logFile, 'utf8');
    expect(log.length, 'the trace-level log is not empty').toBeGreaterThan(1_000);
    expect(log, 'it logged the requests').toContain('/v1/batch');
    for (const key of [
      KEYS.acmeWrite,
      KEYS.acmeRead,
      wrongKey,
      KEYS.acmeClient,
      'lsc_wrong-client-key-not-logged-9c1e',
    ]) {
      expect(log.includes(key), `key ${key.slice(0, 6)}… appears in the log`).toBe(false);
    }
  });
});
