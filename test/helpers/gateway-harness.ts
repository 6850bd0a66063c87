/**
 * Integration harness for the ingest gateway: starts the real composition (createGateway) on a random
 * port with its own topic prefix, a projects file with known keys, and reads the ingest topic back.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaMessage } from 'kafkajs';
import { createLogger } from '../../shared/logging/logger.ts';
import { sha256Hex } from '../../shared/projects/project-catalog.ts';
import { loadGatewayConfig } from '../../services/gateway/src/config.ts';
import type { GatewayConfig } from '../../services/gateway/src/config.ts';
import { createGateway } from '../../services/gateway/src/gateway.ts';
import type { GatewayOverrides, RunningGateway } from '../../services/gateway/src/gateway.ts';

/** Keys of the test projects (clear text; the projects file holds their SHA-256). */
export const KEYS = {
  acmeWrite: 'acme-write-key-0001',
  acmeRead: 'acme-read-key-0001',
  shopWrite: 'shop-write-key-0001',
  /** A publishable client key of acme, for the pages of ACME_ORIGINS. */
  acmeClient: 'lsc_acme-client-key-00000001',
  shopClient: 'lsc_shop-client-key-00000001',
} as const;

/** Origins whose pages may use acme's client key (shop's client key has none). */
export const ACME_ORIGINS = ['https://acme.example', 'http://127.0.0.1:5173'] as const;

/** Event definitions of project acme: `checkout` is enforced, so it can produce schema_violation. */
export const ACME_DEFINITIONS = {
  events: {
    checkout: {
      valueType: 'currency',
      schemaEnforcement: 'reject',
      properties: { plan: { type: 'string', enum: ['free', 'pro'], required: true } },
    },
  },
};

/**
 * Writes a projects file with acme (write, read and client key, definitions, ACME_ORIGINS) and shop
 * (write and client key, no origins).
 */
export function writeProjectsFile(dir: string): string {
  const file = path.join(dir, 'projects.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      projects: [
        {
          id: 'acme',
          keys: [
            { role: 'write', sha256: sha256Hex(KEYS.acmeWrite) },
            { role: 'read', sha256: sha256Hex(KEYS.acmeRead) },
            { role: 'client', sha256: sha256Hex(KEYS.acmeClient) },
          ],
          eventDefinitions: ACME_DEFINITIONS,
          allowedOrigins: [...ACME_ORIGINS],
        },
        {
          id: 'shop',
          keys: [
            { role: 'write', sha256: sha256Hex(KEYS.shopWrite) },
            { role: 'client', sha256: sha256Hex(KEYS.shopClient) },
          ],
        },
      ],
    }),
  );
  return file;
}

export interface TestGateway {
  readonly gateway: RunningGateway;
  readonly config: GatewayConfig;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly prefix: string;
  readonly brokers: string;
  close(): Promise<void>;
}

/**
 * Starts a gateway on 127.0.0.1:0 with a fresh topic prefix and waits until it is ready (unless
 * `waitReady` is false). `env` overrides any variable.
 */
export async function startTestGateway(opts: {
  brokers: string;
  registryUrl: string;
  env?: Record<string, string>;
  overrides?: GatewayOverrides;
  waitReady?: boolean;
}): Promise<TestGateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-test-'));
  const prefix = `test-${randomUUID()}.`;
  const config = loadGatewayConfig({
    KAFKA_BROKERS: opts.brokers,
    SCHEMA_REGISTRY_URL: opts.registryUrl,
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: '3',
    PROJECTS_FILE: writeProjectsFile(dir),
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...opts.env,
  });
  const gateway = await createGateway(config, createLogger('gateway-test', config.logLevel), opts.overrides);
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  if (opts.waitReady ?? true) await gateway.whenReady();
  return {
    gateway,
    config,
    url,
    prefix,
    brokers: opts.brokers,
    async close() {
      await gateway.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs to the gateway over a real socket; returns status, headers and the parsed JSON body. */
export async function post(
  url: string,
  route: string,
  body: unknown,
  opts: { key?: string | null; contentType?: string; raw?: boolean } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  const key = opts.key === undefined ? KEYS.acmeWrite : opts.key;
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers,
    body: opts.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`non-JSON answer ${res.status} from ${route}: ${text.slice(0, 300)}`);
  }
  return { status: res.status, headers: res.headers, json };
}

/**
 * Reads `topic` from the beginning until `count` records satisfying `match` arrived, or `timeoutMs`
 * passed (then returns what it has, so the caller's assertion names the shortfall). With `settleMs`,
 * keeps reading that long after the count is reached, to catch records that should not be there.
 */
export async function readTopic(
  brokers: string,
  topic: string,
  opts: { count: number; match?: (m: KafkaMessage) => boolean; timeoutMs?: number; settleMs?: number },
): Promise<KafkaMessage[]> {
  const kafka = new Kafka({
    clientId: 'gateway-test-reader',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.timeoutMs ?? 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (opts.match && !opts.match(message)) return;
          messages.push(message);
          if (messages.length === opts.count) {
            clearTimeout(timer);
            setTimeout(resolve, opts.settleMs ?? 0);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Matches records whose key starts with `<project>/<prefix>`. */
export function keyStartsWith(prefix: string): (m: KafkaMessage) => boolean {
  return (m) => m.key?.toString('utf8').startsWith(prefix) ?? false;
}

/** Deletes every topic of `prefix` and the registry subject of its ingest topic (best effort). */
export async function cleanUp(brokers: string, registryUrl: string, prefix: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'gateway-test-cleanup',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // best effort: a leftover topic with a unique prefix harms no one
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${prefix}ingest-value`)}`, {
    method: 'DELETE',
  }).catch(() => undefined);
}
