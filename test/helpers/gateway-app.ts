/**
 * The gateway's fastify app built with fakes instead of Kafka and the registry, for tests of its HTTP
 * layer through `app.inject` (no sockets, no broker): accepted records are kept in `submitted`.
 */
import avro from 'avsc';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../shared/logging/logger.ts';
import { parseProjectCatalog, sha256Hex } from '../../shared/projects/project-catalog.ts';
import { readAvsc } from '../../shared/registry/avro-schemas.ts';
import { buildGatewayApp } from '../../services/gateway/src/app.ts';
import { loadGatewayConfig } from '../../services/gateway/src/config.ts';
import type { OutgoingRecord } from '../../services/gateway/src/ingest/prepare-ingest.ts';
import type { IngestOutcomeRecorder } from '../../services/gateway/src/ingest-reports/outcome-ledger.ts';
import { createGatewayMetrics } from '../../services/gateway/src/metrics/gateway-metrics.ts';
import type { GatewayMetrics } from '../../services/gateway/src/metrics/gateway-metrics.ts';
import { ConfluentBatchEncoder } from '../../services/gateway/src/transport/confluent-encoder.ts';

/** Clear-text keys of the catalog below. */
export const APP_KEYS = {
  shopWrite: 'lsw_shop-write-key-000000001',
  shopClient: 'lsc_shop-client-key-00000001',
  shopRead: 'lsr_shop-read-key-0000000001',
  blogClient: 'lsc_blog-client-key-00000001',
  blogWrite: 'lsw_blog-write-key-000000001',
} as const;

export const SHOP_ORIGIN = 'https://shop.example';
export const BLOG_ORIGIN = 'http://127.0.0.1:5173';

/** Two projects: shop (write, client, read keys; its origins; a client limit) and blog. */
export function appCatalogJson(overrides: { shopRateLimits?: unknown } = {}): unknown {
  return {
    projects: [
      {
        id: 'shop',
        keys: [
          { role: 'write', sha256: sha256Hex(APP_KEYS.shopWrite) },
          { role: 'client', sha256: sha256Hex(APP_KEYS.shopClient) },
          { role: 'read', sha256: sha256Hex(APP_KEYS.shopRead) },
        ],
        allowedOrigins: [SHOP_ORIGIN, 'https://*.shop.example'],
        rateLimits: overrides.shopRateLimits ?? { client: { perSecond: 1000, burst: 1000 } },
      },
      {
        id: 'blog',
        keys: [
          { role: 'client', sha256: sha256Hex(APP_KEYS.blogClient) },
          { role: 'write', sha256: sha256Hex(APP_KEYS.blogWrite) },
        ],
        allowedOrigins: [BLOG_ORIGIN],
      },
    ],
  };
}

export interface TestApp {
  app: FastifyInstance;
  metrics: GatewayMetrics;
  /** Records handed to the (fake) producer, in order. */
  submitted: OutgoingRecord[];
}

/** Builds the app (not listening) over `catalogJson`, with `env` on top of a minimal environment. */
export async function buildTestApp(
  opts: {
    env?: Record<string, string>;
    catalogJson?: unknown;
    /** The fake producer's answer to each submit: throw to refuse the batch (as Kafka being down does). */
    submit?: (records: readonly OutgoingRecord[]) => void;
    /** Where per-project outcomes are counted (the gateway's ingest reports). */
    outcomes?: IngestOutcomeRecorder;
  } = {},
): Promise<TestApp> {
  const config = loadGatewayConfig({ PROJECTS_FILE: 'unused.json', LOG_LEVEL: 'silent', ...opts.env });
  const metrics = createGatewayMetrics({ defaults: false });
  const submitted: OutgoingRecord[] = [];
  const encoder = new ConfluentBatchEncoder(avro.Type.forSchema(readAvsc('ingest-event') as avro.Schema), 1);
  const app = await buildGatewayApp({
    config,
    catalog: parseProjectCatalog(opts.catalogJson ?? appCatalogJson()),
    producer: {
      async submit(records) {
        opts.submit?.(records);
        submitted.push(...records);
      },
    },
    ...(opts.outcomes === undefined ? {} : { outcomes: opts.outcomes }),
    schema: {
      encoder: () => encoder,
      state: () => ({ status: 'registered', subject: 'test-ingest-value', id: 1 }),
      registryReachable: async () => true,
    },
    kafkaCheck: async () => ({ up: true }),
    logger: createLogger('gateway-app-test', 'silent'),
    metrics,
  });
  return { app, metrics, submitted };
}

/** One valid track event. */
export function trackEvent(userId = 'u-1'): Record<string, unknown> {
  return { type: 'track', user_id: userId, event: 'purchase', value: 5 };
}
