import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAlertMetrics } from '../../../../services/stats/src/alerts/alert-metrics.ts';
import type { AlertMetrics } from '../../../../services/stats/src/alerts/alert-metrics.ts';
import type { AlertTransition } from '../../../../services/stats/src/alerts/alert-state.ts';
import {
  classifyStatus,
  retryAfterMsOf,
  retryDelayMs,
  WebhookSender,
} from '../../../../services/stats/src/alerts/webhook-delivery.ts';
import type { DeliveryPolicy } from '../../../../services/stats/src/alerts/webhook-delivery.ts';
import { verifySignature } from '../../../../services/stats/src/alerts/webhook-signature.ts';

const SECRET = 'test-secret';
const policy: DeliveryPolicy = {
  timeoutMs: 50,
  retry: { initialMs: 10, maxMs: 40 },
  giveUpAfterMs: 1_000,
  queueSize: 2,
};

const transition = (id: string, state: AlertTransition['state'] = 'raised'): AlertTransition => ({
  id,
  project: 'shop',
  experiment: 'checkout',
  kind: 'srm',
  metric: null,
  state,
  at: Date.now(),
  raisedAt: Date.now(),
  details: { p_value: 1e-6, threshold: 0.001, observed: { a: 10, b: 30 }, expected: { a: 20, b: 20 } },
});

interface Call {
  body: string;
  signature: string | undefined;
}

/** A sender whose receiver is `answer` (a status, or a promise of one that may never come). */
function sender(answer: (call: number) => number | Promise<number>, opts: Partial<DeliveryPolicy> = {}) {
  const calls: Call[] = [];
  const metrics = createAlertMetrics(new Registry());
  const fetchStub = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = init?.headers as Record<string, string>;
    calls.push({ body: init?.body as string, signature: headers['liftstream-signature'] });
    const signal = init?.signal;
    const status = await new Promise<number>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error));
      void Promise.resolve(answer(calls.length)).then(resolve);
    });
    return new Response(null, { status });
  };
  const s = new WebhookSender({
    webhook: { project: 'shop', url: 'https://receiver.example/hook?token=secret', secret: SECRET },
    policy: { ...policy, ...opts },
    metrics,
    logger: pino({ level: 'silent' }),
    fetch: fetchStub as typeof fetch,
  });
  return { s, calls, metrics };
}

async function counted(metrics: AlertMetrics, outcome: string): Promise<number> {
  return (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

async function until(check: () => Promise<boolean> | boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('retry policy', () => {
  it.each([
    [200, 'ok'],
    [204, 'ok'],
    [500, 'retryable_status'],
    [503, 'retryable_status'],
    [408, 'retryable_status'],
    [429, 'retryable_status'],
    [400, 'refused_status'],
    [401, 'refused_status'],
    [404, 'refused_status'],
    [301, 'refused_status'],
  ])('status %d is %s', (status, result) => {
    expect(classifyStatus(status)).toBe(result);
  });

  const full = () => 0.999_999;
  it('retries failures with capped exponential backoff', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) =>
      retryDelayMs(
        'retryable_status',
        n,
        0,
        { retry: { initialMs: 1_000, maxMs: 8_000 }, giveUpAfterMs: 1e9 },
        null,
        full,
      ),
    );
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(retryDelayMs('timeout', 1, 0, policy, null, full), 'a timeout').toBe(10);
    expect(retryDelayMs('network_error', 1, 0, policy, null, full), 'no connection').toBe(10);
  });

  it('never retries a delivered or refused one, and gives up past the retry period', () => {
    expect(retryDelayMs('ok', 1, 0, policy)).toBeNull();
    expect(retryDelayMs('refused_status', 1, 0, policy)).toBeNull();
    expect(retryDelayMs('retryable_status', 9, 980, policy, null, full), '980 + 40 > 1000').toBeNull();
  });

  it("honours the receiver's Retry-After up to the cap", () => {
    const p = { retry: { initialMs: 1_000, maxMs: 60_000 }, giveUpAfterMs: 1e9 };
    expect(retryDelayMs('retryable_status', 1, 0, p, retryAfterMsOf('30'), full)).toBe(30_000);
    expect(retryDelayMs('retryable_status', 1, 0, p, retryAfterMsOf('3600'), full), 'capped').toBe(60_000);
    expect(retryAfterMsOf('Wed, 21 Oct 2015 07:28:00 GMT'), 'date form ignored').toBeNull();
  });
});

describe('WebhookSender', () => {
  it('delivers on retry after a 500, signing every attempt', async () => {
    const { s, calls, metrics } = sender((n) => (n === 1 ? 500 : 200));
    s.enqueue(transition('a1'));
    await until(async () => (await counted(metrics, 'delivered')) === 1);
    expect(calls.length, 'the 500, then the retry').toBe(2);
    const now = Math.floor(Date.now() / 1000);
    for (const call of calls) {
      expect(verifySignature(call.signature, call.body, SECRET, now).ok, 'signature verifies').toBe(true);
    }
    expect(JSON.parse(calls[1]?.body as string)).toMatchObject({
      id: 'a1',
      project: 'shop',
      experiment: 'checkout',
      kind: 'srm',
      metric: null,
      state: 'raised',
      details: { p_value: 1e-6, threshold: 0.001 },
    });
    await s.stop();
  });

  it('gives up at once on a 4xx: the receiver will not take it however often it is sent', async () => {
    const { s, calls, metrics } = sender(() => 400);
    s.enqueue(transition('a1'));
    await until(async () => (await counted(metrics, 'failed')) === 1);
    expect(calls.length).toBe(1);
    await s.stop();
  });

  it('times out a receiver that never answers, retries it, and gives up after the retry period', async () => {
    const { s, calls, metrics } = sender(() => new Promise<number>(() => undefined), { giveUpAfterMs: 400 });
    s.enqueue(transition('a1'));
    await until(async () => (await counted(metrics, 'failed')) === 1);
    expect(calls.length, 'retried after timing out').toBeGreaterThanOrEqual(2);
    const timeouts = (await metrics.attempts.get()).values.find((v) => v.labels.result === 'timeout')?.value;
    expect(timeouts, 'each counted as a timeout').toBe(calls.length);
    await s.stop();
  });

  it('never blocks the caller, drops the oldest waiting delivery when full, and keeps the order', async () => {
    let release: (status: number) => void = () => undefined;
    const gate = new Promise<number>((r) => {
      release = r;
    });
    const { s, calls, metrics } = sender((n) => (n === 1 ? gate : 200), { timeoutMs: 10_000 });
    for (const id of ['a1', 'a2', 'a3', 'a4']) s.enqueue(transition(id));
    // enqueue is synchronous: reaching this line with the receiver still holding a1 is the point.
    expect(await counted(metrics, 'delivered'), 'nothing answered yet').toBe(0);
    expect(s.depth, 'one in flight, two waiting').toBe(3);
    expect(await counted(metrics, 'dropped'), 'a2, the oldest waiting, dropped').toBe(1);
    release(200);
    await until(async () => (await counted(metrics, 'delivered')) === 3);
    expect(calls.map((c) => (JSON.parse(c.body) as { id: string }).id)).toEqual(['a1', 'a3', 'a4']);
    expect((await metrics.queued.get()).values[0]?.value, 'queue empty').toBe(0);
    await s.stop();
  });

  it('delivers a raised before its cleared', async () => {
    const { s, calls, metrics } = sender((n) => (n === 1 ? 503 : 200));
    s.enqueue(transition('a1', 'raised'));
    s.enqueue(transition('a1', 'cleared'));
    await until(async () => (await counted(metrics, 'delivered')) === 2);
    expect(calls.map((c) => (JSON.parse(c.body) as { state: string }).state)).toEqual([
      'raised',
      'raised',
      'cleared',
    ]);
    await s.stop();
  });
});
