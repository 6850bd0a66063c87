import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type LiftstreamError, type WireEvent } from '../../sdk/src/index.ts';
import type { ClientOptions } from '../../sdk/src/client-options.ts';
import { fakePage, fakeTransport, networkError, ok, status, type Answer } from '../helpers/sdk-fakes.ts';
import { replay, sdkScenario } from '../helpers/sdk-scenario.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = Date.parse('2026-12-05T12:00:00Z');

function setup(script: Answer[] = [], options: Partial<ClientOptions> = {}) {
  const fake = fakeTransport(script);
  const errors: LiftstreamError[] = [];
  const client = createClient(
    {
      endpoint: 'http://gateway.test',
      key: 'lsw_test',
      flushAt: 3,
      flushIntervalMs: 1_000,
      flushOnExit: false,
      onError: (e) => errors.push(e),
      ...options,
    },
    { transport: fake.transport, random: () => 0, now: () => Date.now() },
  );
  return { client, fake, errors };
}

const track = (n: number) => ({ user_id: `u-${n}`, event: 'purchase', value: n });
const ids = (events: readonly WireEvent[]) => events.map((e) => e.message_id);

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createClient: building events', () => {
  it('stamps every event with a UUID v7 message_id and the time of the call, and sends the wire fields', async () => {
    const { client, fake } = setup();
    client.exposure({
      user_id: 'u-1',
      experiment: 'checkout',
      variation: 'control',
      properties: { country: 'DE', beta: true },
    });
    client.track({ anonymous_id: 'a-1', event: 'purchase', value: 20, properties: { plan: 'pro' } });
    client.alias({ anonymous_id: 'a-1', user_id: 'u-1' });
    await vi.advanceTimersByTimeAsync(0);
    const [exposure, trackEvent, alias] = fake.sentEvents();
    expect(exposure).toMatchObject({
      type: 'exposure',
      user_id: 'u-1',
      experiment: 'checkout',
      timestamp: NOW,
      properties: { country: 'DE', beta: true },
    });
    expect(trackEvent).toMatchObject({
      type: 'track',
      event: 'purchase',
      value: 20,
      properties: { plan: 'pro' },
    });
    expect(alias).toMatchObject({ type: 'alias', anonymous_id: 'a-1', user_id: 'u-1' });
    for (const e of fake.sentEvents()) expect(e.message_id, e.type).toMatch(UUID_V7);
    expect(new Set(ids(fake.sentEvents())).size, 'distinct message_ids').toBe(3);
  });

  it("keeps the caller's own message_id and timestamp", async () => {
    const { client, fake } = setup([], { flushAt: 1 });
    client.track({
      user_id: 'u',
      event: 'purchase',
      message_id: 'order-17',
      timestamp: '2026-12-05T11:00:00Z',
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.sentEvents()[0]).toMatchObject({ message_id: 'order-17', timestamp: '2026-12-05T11:00:00Z' });
  });

  it('leaves timestamp out when stampTimestamps is false (the gateway stamps the receive time)', async () => {
    const { client, fake } = setup([], { flushAt: 1, stampTimestamps: false });
    client.track(track(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.sentEvents()[0]).not.toHaveProperty('timestamp');
  });

  it('merges the client context under the event context, and gives aliases none', async () => {
    const { client, fake } = setup([], { context: { locale: 'de-DE', app: 'web' } });
    client.track({ ...track(1), context: { app: 'checkout' } });
    client.exposure({ user_id: 'u', experiment: 'e', variation: 'v' });
    client.alias({ anonymous_id: 'a', user_id: 'u' });
    await vi.advanceTimersByTimeAsync(0);
    const [t, x, a] = fake.sentEvents();
    expect(t?.type === 'track' && t.context).toEqual({ locale: 'de-DE', app: 'checkout' });
    expect(x?.type === 'exposure' && x.context).toEqual({ locale: 'de-DE', app: 'web' });
    expect(a).not.toHaveProperty('context');
  });

  it('serialises an event when it is created: later changes by the caller are not sent', async () => {
    const { client, fake } = setup([], { flushAt: 1 });
    const properties: Record<string, string> = { plan: 'pro' };
    client.track({ user_id: 'u', event: 'purchase', properties });
    properties['plan'] = 'changed';
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(fake.requests[0]?.body ?? '{}').batch[0].properties).toEqual({ plan: 'pro' });
  });

  it('never throws on bad input: reports it instead', () => {
    const { client, errors } = setup();
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => client.track(null as never)).not.toThrow();
    expect(() => client.track({ user_id: 'u', event: 'e', properties: circular as never })).not.toThrow();
    expect(() => client.exposure(undefined as never)).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(['invalid_event', 'invalid_event', 'invalid_event']);
  });

  it('survives an onError handler that throws', async () => {
    const fake = fakeTransport([status(400)]);
    const client = createClient(
      {
        endpoint: 'http://gateway.test',
        key: 'k',
        flushAt: 1,
        flushOnExit: false,
        onError: () => {
          throw new Error('handler bug');
        },
      },
      { transport: fake.transport },
    );
    client.track(track(1));
    await vi.advanceTimersByTimeAsync(0);
    client.track(track(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.requests.length, 'the second event still went out').toBe(2);
  });
});

describe('createClient: batching', () => {
  it('sends nothing during the call: a batch goes out on the next turn once flushAt events are queued', async () => {
    const { client, fake } = setup();
    client.track(track(1));
    client.track(track(2));
    client.track(track(3));
    expect(fake.requests.length, 'track() returned before any request').toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.requests.map((r) => r.events.length)).toEqual([3]);
  });

  it('sends a partial batch flushIntervalMs after the first event was queued', async () => {
    const { client, fake } = setup();
    client.track(track(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.requests.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.requests.map((r) => r.events.length)).toEqual([1]);
  });

  it('cuts a backlog into batches of at most maxBatchEvents and maxBatchBytes', async () => {
    const { client, fake } = setup([], { flushAt: 1_000, maxBatchEvents: 4, maxBatchBytes: 2_000 });
    for (let i = 0; i < 10; i++) client.track(track(i));
    await client.flush();
    expect(
      fake.requests.map((r) => r.events.length),
      'by count',
    ).toEqual([4, 4, 2]);
    const big = setup([], { flushAt: 1_000, maxBatchBytes: 2_000 });
    for (let i = 0; i < 6; i++) big.client.track({ ...track(i), properties: { note: 'x'.repeat(600) } });
    await big.client.flush();
    expect(
      big.fake.requests.map((r) => r.events.length),
      'by bytes',
    ).toEqual([2, 2, 2]);
    for (const r of big.fake.requests)
      expect(new TextEncoder().encode(r.body).length).toBeLessThanOrEqual(2_000);
  });

  it('refuses (and reports) an event larger than a batch may be, and sends the others', async () => {
    const { client, fake, errors } = setup([], { maxBatchBytes: 1_024, flushAt: 1 });
    client.track({ ...track(1), properties: { note: 'x'.repeat(2_000) } });
    client.track(track(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors.map((e) => e.code)).toEqual(['invalid_event']);
    expect(fake.sentEvents().map((e) => e.type === 'track' && e.value)).toEqual([2]);
  });
});

describe('createClient: retries', () => {
  it('retries a 503 after its Retry-After with the same message_ids, and reports nothing', async () => {
    const { client, fake, errors } = setup([status(503, '2')]);
    for (let i = 0; i < 3; i++) client.track(track(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.requests.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(fake.requests.length, 'not before Retry-After').toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.requests.length).toBe(2);
    expect(fake.requests[1]?.body, 'the same bytes, so the same message_ids').toBe(fake.requests[0]?.body);
    expect(errors).toEqual([]);
    expect(client.stats()).toMatchObject({ delivered: 3, retries: 1, queued: 0 });
  });

  it('retries network errors and 429 with growing backoff until delivered', async () => {
    const { client, fake } = setup([networkError, status(429), networkError]);
    for (let i = 0; i < 3; i++) client.track(track(i));
    await vi.advanceTimersByTimeAsync(0);
    // random() = 0: half of 1 s, 2 s, 4 s.
    await vi.advanceTimersByTimeAsync(500);
    expect(fake.requests.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.requests.length).toBe(3);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fake.requests.length).toBe(4);
    expect(new Set(fake.requests.map((r) => r.body)).size, 'one body, four attempts').toBe(1);
    expect(client.stats()).toMatchObject({ delivered: 3, retries: 3 });
  });

  it('sends the events queued during a backoff after the retried ones, in order', async () => {
    const { client, fake } = setup([networkError], { flushAt: 2 });
    client.track(track(1));
    client.track(track(2));
    await vi.advanceTimersByTimeAsync(0);
    client.track(track(3));
    client.track(track(4));
    await vi.advanceTimersByTimeAsync(500);
    await vi.advanceTimersByTimeAsync(0);
    const delivered = fake.requests.slice(1).flatMap((r) => r.events);
    expect(delivered.map((e) => e.type === 'track' && e.value)).toEqual([1, 2, 3, 4]);
  });

  it('never retries another 4xx: reports the batch as refused with its status', async () => {
    const { client, fake, errors } = setup([status(401)]);
    for (let i = 0; i < 3; i++) client.track(track(i));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.requests.length).toBe(1);
    expect(errors.map((e) => [e.code, e.status, e.events.length])).toEqual([['refused', 401, 3]]);
    expect(client.stats()).toMatchObject({ refused: 3, queued: 0 });
  });

  it('reports each event the gateway rejected, once, with its verdict', async () => {
    const { client, errors } = setup([(events) => ok(events, [1])]);
    for (let i = 0; i < 3; i++) client.track(track(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'rejected',
      rejection: { index: 1, code: 'invalid_event_name' },
    });
    expect(errors[0]?.events[0]).toMatchObject({ user_id: 'u-1' });
    expect(client.stats()).toMatchObject({ delivered: 2, rejected: 1 });
  });
  it('counts events the gateway dropped as bots apart from the delivered ones', async () => {
    const { client, errors } = setup([
      (events) => ({ ...ok(events), result: { accepted: 2, rejected: [], dropped: 1 } }),
    ]);
    for (let i = 0; i < 3; i++) client.track(track(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(errors, 'a bot drop is not an error of the producer').toEqual([]);
    expect(client.stats()).toMatchObject({ delivered: 2, droppedAsBots: 1 });
  });
});

describe('createClient: bounded queue', () => {
  it('drops the oldest events beyond maxQueueSize while the endpoint is unreachable, counting them', async () => {
    const { client, fake, errors } = setup(Array(50).fill(networkError), { maxQueueSize: 5, flushAt: 100 });
    for (let i = 0; i < 12; i++) client.track(track(i));
    expect(client.stats()).toMatchObject({ queued: 5, droppedQueueFull: 7 });
    expect(errors.map((e) => e.code)).toEqual(Array(7).fill('queue_full'));
    expect(errors.map((e) => e.events[0]?.type === 'track' && e.events[0].value)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    expect(fake.requests.length).toBe(0);
  });

  it('keeps the events of a request under way and drops the oldest of the rest', async () => {
    const { client, fake } = setup([networkError], { maxQueueSize: 4, flushAt: 2, maxBatchEvents: 2 });
    fake.hold();
    client.track(track(0));
    client.track(track(1));
    await vi.advanceTimersByTimeAsync(0); // request with 0, 1 under way
    for (let i = 2; i < 6; i++) client.track(track(i)); // 2 and 3 make way for 4 and 5
    fake.release();
    await vi.advanceTimersByTimeAsync(500);
    await client.flush();
    const values = fake.requests.slice(1).flatMap((r) => r.events.map((e) => e.type === 'track' && e.value));
    expect(values).toEqual([0, 1, 4, 5]);
    expect(client.stats()).toMatchObject({ droppedQueueFull: 2, delivered: 4 });
  });
});

describe('createClient: exposures', () => {
  it('sends an exposure once per unit, experiment and variation for the life of the client', async () => {
    const { client, fake } = setup();
    for (let i = 0; i < 10; i++)
      client.exposure({ user_id: 'u-1', experiment: 'checkout', variation: 'control' });
    client.exposure({ user_id: 'u-2', experiment: 'checkout', variation: 'control' });
    await client.flush();
    expect(fake.sentEvents().map((e) => e.user_id)).toEqual(['u-1', 'u-2']);
    expect(client.stats().exposuresDeduplicated).toBe(9);
  });
});

describe('createClient: flush and close', () => {
  it('flush() resolves once everything queued was answered for, not before', async () => {
    const { client, fake } = setup([ok, status(503, '1')], { maxBatchEvents: 1 });
    client.track(track(1));
    client.track(track(2));
    let settled = false;
    const result = client.flush().then((r) => ((settled = true), r));
    await vi.advanceTimersByTimeAsync(999);
    expect(settled, 'the first event is in, the second backing off after its 503').toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual({ pending: 0 });
    expect(fake.requests.length).toBe(3);
  });

  it('flush() gives up after its timeout with the number still pending, which stay queued', async () => {
    const { client } = setup(Array(50).fill(networkError));
    client.track(track(1));
    client.track(track(2));
    const result = client.flush({ timeoutMs: 3_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await result).toEqual({ pending: 2 });
    expect(client.stats().queued).toBe(2);
  });

  it('close() delivers what it can, then reports the rest as undelivered and refuses new events', async () => {
    const { client, errors } = setup(Array(50).fill(networkError));
    client.track(track(1));
    const closed = client.close({ timeoutMs: 2_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await closed).toEqual({ pending: 1 });
    client.track(track(2));
    expect(errors.map((e) => e.code)).toEqual(['undelivered', 'closed']);
    expect(client.stats()).toMatchObject({ undelivered: 1, queued: 0 });
    expect(client.close(), 'idempotent').toBe(closed);
  });
});

describe('createClient in a browser page', () => {
  let page: ReturnType<typeof fakePage>;
  afterEach(() => page.uninstall());

  it('hands the queue to sendBeacon when the page is hidden, as text with the key in the body, and does not send it again', async () => {
    page = fakePage();
    const { client, fake } = setup([], { key: 'lsc_client', flushAt: 100 });
    client.exposure({ anonymous_id: 'a-1', experiment: 'checkout', variation: 'treatment' });
    client.track({ anonymous_id: 'a-1', event: 'purchase', value: 35 });
    page.hide();
    expect(page.beacons).toHaveLength(1);
    const beacon = page.beacons[0] as { url: string; data: string };
    expect(beacon.url).toBe('http://gateway.test/v1/batch');
    const body = JSON.parse(beacon.data) as { api_key: string; batch: WireEvent[] };
    expect(body.api_key).toBe('lsc_client');
    expect(body.batch.map((e) => e.type)).toEqual(['exposure', 'track']);
    expect(body.batch[0]?.type === 'exposure' && body.batch[0].context?.['user_agent']).toContain('FakePage');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.requests.length, 'beaconed events are not sent again').toBe(0);
    expect(client.stats()).toMatchObject({ beaconed: 2, queued: 0 });
  });

  it('beacons events of a request under way too (their message_ids dedupe if both arrive)', async () => {
    page = fakePage();
    const { client, fake } = setup([], { flushAt: 1 });
    fake.hold();
    client.track(track(1));
    await vi.advanceTimersByTimeAsync(0);
    page.pagehide();
    fake.release();
    await vi.advanceTimersByTimeAsync(0);
    const beaconed = (JSON.parse(page.beacons[0]?.data ?? '{}') as { batch: WireEvent[] }).batch;
    expect(ids(beaconed)).toEqual(ids(fake.sentEvents()));
    expect(client.stats(), 'counted once, as beaconed').toMatchObject({
      beaconed: 1,
      delivered: 0,
      queued: 0,
    });
  });

  it('keeps what the browser refused to beacon (quota spent) for the next send', async () => {
    page = fakePage({ acceptBeacon: () => false });
    const { client, fake } = setup([], { flushAt: 100 });
    client.track(track(1));
    page.pagehide();
    expect(client.stats().queued).toBe(1);
    await client.flush();
    expect(fake.requests.length).toBe(1);
  });
});

describe('createClient in Node', () => {
  it('flushes when the event loop runs empty (beforeExit) and stops listening on close', async () => {
    const fake = fakeTransport();
    const before = process.listeners('beforeExit');
    const client = createClient({ endpoint: 'http://gateway.test', key: 'k' }, { transport: fake.transport });
    const added = process.listeners('beforeExit').filter((l) => !before.includes(l));
    expect(added).toHaveLength(1);
    client.track(track(1));
    // Called directly: emitting a real beforeExit would reach the test runner's listeners too.
    (added[0] as () => void)();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.requests.length).toBe(1);
    await client.close();
    expect(process.listeners('beforeExit')).toEqual(before);
  });
});

describe('createClient replaying a producer scenario', () => {
  it('sends exactly the events that must count, once each, with the fields the reference reads', async () => {
    const scenario = sdkScenario({ seed: 7, users: 60, now: NOW });
    const { client, fake } = setup([], { flushAt: 25 });
    replay(client, scenario.calls);
    await client.flush();
    const sent = fake.sentEvents().map((e) => ({
      kind: e.type,
      timestamp: e.timestamp,
      user_id: e.user_id ?? null,
      anonymous_id: e.anonymous_id ?? null,
      ...(e.type === 'exposure' ? { experiment: e.experiment, variation: e.variation } : {}),
      ...(e.type === 'track' ? { event: e.event, value: e.value ?? null } : {}),
      project: 'p',
    }));
    expect(sent).toEqual(scenario.accepted('p'));
    expect(new Set(ids(fake.sentEvents())).size).toBe(sent.length);
  });
});
