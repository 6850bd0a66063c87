/**
 * The gateway against a schema registry that goes away or is not there yet. The shared registry must
 * keep running for everyone, so the gateway reaches it through a TCP proxy owned by this test:
 * closing the proxy is, for the gateway, exactly a registry outage (connections refused).
 */
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cleanUp, keyStartsWith, post, readTopic, startTestGateway } from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';

const brokers = inject('kafkaBrokers');
const registryUrl = inject('registryUrl');

interface Proxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> to the registry's host:port; `port` 0 picks a free one. */
function startProxy(port = 0): Promise<Proxy> {
  const target = new URL(registryUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The registry URL as seen through a proxy on `port`. */
function viaProxy(port: number): string {
  const url = new URL(registryUrl);
  url.host = `127.0.0.1:${port}`;
  return url.toString().replace(/\/$/, '');
}

async function readyz(
  gw: TestGateway,
): Promise<{ status: number; body: { status: string; checks: Record<string, Record<string, unknown>> } }> {
  const res = await fetch(`${gw.url}/readyz`);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; checks: Record<string, Record<string, unknown>> },
  };
}

let gw: TestGateway | undefined;
let proxy: Proxy | undefined;

afterEach(async () => {
  await proxy?.close();
  if (gw) {
    await gw.close();
    await cleanUp(brokers, registryUrl, gw.prefix);
  }
  gw = undefined;
  proxy = undefined;
});

describe('schema registry outages', () => {
  it('keeps ingesting with the cached schema id when the registry goes away after start', async () => {
    proxy = await startProxy();
    gw = await startTestGateway({ brokers, registryUrl: viaProxy(proxy.port) });
    const schemaId = gw.gateway.schema.current()?.id;
    expect(schemaId, 'registered through the proxy at start').toBeGreaterThan(0);

    await proxy.close();
    proxy = undefined;
    const registryDown = await fetch(`${gw.config.registryUrl}/subjects`).then(
      () => false,
      () => true,
    );
    expect(registryDown, 'the registry is unreachable for the gateway now').toBe(true);

    const id = `r${randomUUID().slice(0, 8)}`;
    const res = await post(gw.url, '/v1/batch', {
      batch: [{ type: 'track', event: 'signup', user_id: `${id}-u` }],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json['accepted']).toBe(1);
    const [message] = await readTopic(brokers, gw.gateway.topics.ingest, {
      count: 1,
      match: keyStartsWith(`acme/${id}`),
    });
    expect((message?.value as Buffer).readUInt32BE(1), 'written with the cached schema id').toBe(schemaId);

    const ready = await readyz(gw);
    expect(ready.status, 'still ready: ingestion does not need the registry any more').toBe(200);
    expect(ready.body.checks['registry']?.['status'], 'the outage is reported').toBe('down');
    expect(ready.body.checks['schema']?.['status']).toBe('registered');
  });

  it('answers 503 not_ready until the registry is reachable, then registers in the background', async () => {
    // Reserve a free port, then free it: the gateway starts against a registry that is not there.
    const reserved = await startProxy();
    const port = reserved.port;
    await reserved.close();
    gw = await startTestGateway({ brokers, registryUrl: viaProxy(port), waitReady: false });

    const refused = await post(gw.url, '/v1/batch', {
      batch: [{ type: 'track', event: 'signup', user_id: 'u1' }],
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after'), 'a 503 says when to retry').toMatch(/^\d+$/);
    expect(refused.json).toEqual({
      error: { code: 'not_ready', message: expect.stringContaining('schema') },
    });
    const notReady = await readyz(gw);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks['schema']?.['status']).toBe('pending');
    expect(notReady.body.checks['registry']?.['status']).toBe('down');

    proxy = await startProxy(port);
    await gw.gateway.whenReady();
    const accepted = await post(gw.url, '/v1/batch', {
      batch: [{ type: 'track', event: 'signup', user_id: 'u1' }],
    });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    expect((await readyz(gw)).status).toBe(200);
  });
});
