/**
 * Kafka down and back: the gateway runs against a private broker of this file (the shared one must
 * never be stopped), which the test stops and restarts on the same data dir and ports.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { confluentDecode } from '../../helpers/confluent-deserializer.ts';
import { cleanUp, keyStartsWith, post, readTopic, startTestGateway } from '../../helpers/gateway-harness.ts';
import type { TestGateway } from '../../helpers/gateway-harness.ts';
import { PrivateKafka } from '../../helpers/private-kafka.ts';

const registryUrl = inject('registryUrl');
const PRODUCE_TIMEOUT_MS = 2_000;

let kafka: PrivateKafka | undefined;
let gw: TestGateway | undefined;

beforeAll(async () => {
  kafka = await PrivateKafka.start('gateway-kafka-outage');
  gw = await startTestGateway({
    brokers: kafka.brokers,
    registryUrl,
    env: { PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS), RETRY_AFTER_SECONDS: '3', TOPIC_PARTITIONS: '2' },
  });
});

afterAll(async () => {
  await gw?.close();
  // Topics live in the private broker's data dir, removed below; cleanUp also drops the registry subject.
  if (gw && kafka?.running) await cleanUp(kafka.brokers, registryUrl, gw.prefix);
  await kafka?.dispose();
});

describe('Kafka outage', () => {
  it('answers 503 with Retry-After while the broker is down, then 200 once it is back', async () => {
    const t = gw as TestGateway;
    const id = `r${randomUUID().slice(0, 8)}`;
    const event = (n: string) => ({
      type: 'track',
      event: 'purchase',
      user_id: `${id}-u`,
      message_id: `${id}-${n}`,
    });

    const before = await post(t.url, '/v1/batch', { batch: [event('before')] });
    expect(before.status, JSON.stringify(before.json)).toBe(200);

    const broker = kafka as PrivateKafka;
    await broker.down();

    const started = Date.now();
    const down = await post(t.url, '/v1/batch', { batch: [event('down')] });
    const elapsed = Date.now() - started;
    expect(down.status, JSON.stringify(down.json)).toBe(503);
    expect(down.headers.get('retry-after')).toBe('3');
    expect(down.json, 'nothing acknowledged: an error, no accepted count').toEqual({
      error: { code: 'kafka_unavailable', message: expect.stringContaining('nothing was accepted') },
    });
    expect(elapsed, 'bounded by PRODUCE_TIMEOUT_MS, not by Kafka client retries').toBeLessThan(
      PRODUCE_TIMEOUT_MS + 1_500,
    );

    const readyDown = await fetch(`${t.url}/readyz`);
    expect(readyDown.status, 'not ready while Kafka is down').toBe(503);
    const readyBody = (await readyDown.json()) as { checks: { kafka: { status: string } } };
    expect(readyBody.checks.kafka.status).toBe('down');

    await broker.up();

    // The client retries the refused batch, with the same message_id, until the gateway takes it.
    let retried = down;
    const deadline = Date.now() + 60_000;
    while (retried.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      retried = await post(t.url, '/v1/batch', { batch: [event('down')] });
      expect([200, 503], JSON.stringify(retried.json)).toContain(retried.status);
    }
    expect(retried.status, 'accepted once the broker is back').toBe(200);
    expect(retried.json['accepted']).toBe(1);
    expect((await fetch(`${t.url}/readyz`)).status, 'ready again').toBe(200);

    const messages = await readTopic(broker.brokers, t.gateway.topics.ingest, {
      count: 2,
      match: keyStartsWith(`acme/${id}`),
      settleMs: 1_000,
    });
    const ids = await Promise.all(
      messages.map(
        async (m) =>
          ((await confluentDecode(registryUrl, m.value as Buffer)).value as { message_id: string })
            .message_id,
      ),
    );
    expect(
      ids.filter((m) => m === `${id}-before`),
      'the record acknowledged before the outage survived',
    ).toHaveLength(1);
    // At-least-once: a 503'd attempt is never acknowledged, but a retry may duplicate an attempt that
    // reached the broker late; the processor de-duplicates by message_id.
    expect(
      ids.filter((m) => m === `${id}-down`).length,
      'the retried batch is on the topic',
    ).toBeGreaterThanOrEqual(1);
  });
});
