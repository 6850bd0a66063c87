/**
 * GET /healthz (the process answers), /readyz (it can accept events now), /metrics (Prometheus),
 * /openapi.json (generated from the route schemas). No authentication: they show no event data, only counts
 * per project id (keep /metrics on an internal network).
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { RegistrationState } from '../transport/schema-registration.ts';
import { HealthResponseSchema, ReadyResponseSchema } from './route-schemas.ts';

/** Kafka as readyz reports it. */
export interface KafkaCheck {
  readonly up: boolean;
  readonly detail?: string;
}

export interface OpsRouteDeps {
  metrics: GatewayMetrics;
  /** Whether the gateway could write to Kafka now (producer connected, latest send ok, broker answers). */
  kafkaCheck: () => Promise<KafkaCheck>;
  schemaState: () => RegistrationState;
  /** Whether the registry answers now; informative once the schema is cached. */
  registryReachable: () => Promise<boolean>;
}

export function opsRoutes(deps: OpsRouteDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/healthz',
      { schema: { summary: 'The process is up', response: { 200: HealthResponseSchema } } },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          summary: 'Ready to accept events',
          description:
            'Ready when a Kafka producer is connected and the ingest schema id is known. The registry is ' +
            'reported separately: once the schema id is cached, ingestion does not need it.',
          response: { 200: ReadyResponseSchema, 503: ReadyResponseSchema },
        },
      },
      async (_request, reply) => {
        const [kafka, registryUp] = await Promise.all([deps.kafkaCheck(), deps.registryReachable()]);
        const schema = deps.schemaState();
        const ready = kafka.up && schema.status === 'registered';
        reply.code(ready ? 200 : 503);
        return {
          status: ready ? ('ready' as const) : ('not_ready' as const),
          checks: {
            kafka: { status: kafka.up ? 'up' : 'down', ...(kafka.detail ? { detail: kafka.detail } : {}) },
            schema:
              schema.status === 'registered'
                ? { status: 'registered', subject: schema.subject, id: schema.id }
                : {
                    status: 'pending',
                    subject: schema.subject,
                    ...(schema.lastError ? { detail: schema.lastError } : {}),
                  },
            registry: { status: registryUp ? 'up' : 'down' },
          },
        };
      },
    );

    app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_request, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });

    app.get('/openapi.json', { schema: { summary: 'This OpenAPI document' } }, async () => app.swagger());
  };
}
