/**
 * A registry that accepts connections and never answers (a wedged JVM, a proxy holding the socket): every
 * call fails as REGISTRY_UNAVAILABLE once a request outlasts its timeout, instead of waiting forever. A loopback
 * server that reads and never writes stands in for it.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroSchemaRegistry, isRequestTimeout } from '../../../shared/registry/schema-registry.ts';
import { LiftstreamError } from '../../../shared/errors.ts';

let server: net.Server;
let url: string;
const sockets: net.Socket[] = [];
let connections = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    connections++;
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read the request, never answer
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('a registry that never answers', () => {
  const schema = { type: 'record', name: 'Probe', fields: [{ name: 'a', type: 'string' }] };

  it('fails registration as REGISTRY_UNAVAILABLE after three timed-out attempts, not a hang', async () => {
    const registry = new AvroSchemaRegistry(url, { timeoutMs: 1_000, requestTimeoutMs: 300 });
    const before = connections;
    const { error, ms } = await failure(registry.register('probe-value', schema));
    expect(error).toBeInstanceOf(LiftstreamError);
    expect((error as LiftstreamError).code).toBe('REGISTRY_UNAVAILABLE');
    expect((error as Error).message).toContain('registering probe-value');
    expect(isRequestTimeout(error)).toBe(true);
    expect(connections - before, 'registration asked three times (it is idempotent)').toBe(3);
    expect(ms, 'about 3 × the 300 ms request timeout, not the test timeout').toBeGreaterThanOrEqual(850);
    expect(ms).toBeLessThan(8_000);
  }, 20_000);

  it('fails fetching a schema by id the same way (what decoding an unknown id does)', async () => {
    const registry = new AvroSchemaRegistry(url, { timeoutMs: 1_000, requestTimeoutMs: 300 });
    const { error, ms } = await failure(registry.forId(42));
    expect((error as LiftstreamError).code).toBe('REGISTRY_UNAVAILABLE');
    expect(ms).toBeLessThan(8_000);
  }, 20_000);

  it('knows a timeout however it is wrapped, and nothing else', () => {
    const mappersmith = new Error('liftstream - Error, status 400: Timeout (300ms)');
    const aborted = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    });
    expect(isRequestTimeout(mappersmith)).toBe(true);
    expect(isRequestTimeout(aborted)).toBe(true);
    expect(
      isRequestTimeout(new LiftstreamError('REGISTRY_UNAVAILABLE', 'wrapped', { cause: mappersmith })),
    ).toBe(true);
    expect(isRequestTimeout(new Error('connect ECONNREFUSED 127.0.0.1:8081'))).toBe(false);
    expect(isRequestTimeout(new Error('status 409: conflict'))).toBe(false);
    expect(isRequestTimeout('Timeout (300ms)')).toBe(false);
  });
});
