/**
 * GET /healthz (the process answers), /readyz (ClickHouse answers and, when hosted, the sink is running),
 * /metrics (Prometheus), /openapi.json. No authentication: they show no events and no results, only project ids
 * and the names of running experiments with their SRM alarm (keep /metrics on an internal network).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import type { SinkStatus } from '../../../sink/src/index.ts';
import type { StatsMetrics } from '../stats-metrics.ts';
import { HealthResponseSchema, ReadyResponseSchema } from './route-schemas.ts';

export interface OpsRouteDeps {
  clickhouse: ClickHouseClient;
  metrics: StatsMetrics;
  /** The hosted sink's status, or undefined when SINK_ENABLED is false. */
  sinkStatus: (() => SinkStatus) | undefined;
  /** Longest wait for ClickHouse's answer, ms. */
  readyTimeoutMs?: number;
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
          summary: 'Ready to serve results',
          description:
            'Ready when ClickHouse answers a query and, if this process hosts the sink, the sink is consuming. ' +
            "The sink's group membership, lag and a failing insert are reported but do not make the service unready: " +
            'results are still served from what is stored.',
          response: { 200: ReadyResponseSchema, 503: ReadyResponseSchema },
        },
      },
      async (_request, reply) => {
        const clickhouse = await pingClickHouse(deps.clickhouse, deps.readyTimeoutMs ?? 2_000);
        const sink = deps.sinkStatus?.();
        const sinkUp = sink === undefined || sink.state === 'running';
        const ready = clickhouse.up && sinkUp;
        reply.code(ready ? 200 : 503);
        const lag = sink?.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0);
        return {
          status: ready ? ('ready' as const) : ('not_ready' as const),
          checks: {
            clickhouse: {
              status: clickhouse.up ? 'up' : 'down',
              ...(clickhouse.detail ? { detail: clickhouse.detail } : {}),
            },
            sink:
              sink === undefined
                ? { status: 'disabled' }
                : {
                    status: sink.state,
                    ready: sink.ready,
                    ...(lag === undefined ? {} : { lag }),
                    ...(sink.state === 'failed' && sink.lastError ? { error: sink.lastError.message } : {}),
                    ...(sink.backoff
                      ? {
                          backoff: `${sink.backoff.table} insert failing since ${sink.backoff.since} (attempt ${sink.backoff.attempt}): ${sink.backoff.error}`,
                        }
                      : {}),
                  },
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

async function pingClickHouse(
  client: ClickHouseClient,
  timeoutMs: number,
): Promise<{ up: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' }).then((r) => r.json<{ ok: number }>()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return Number(answer[0]?.ok) === 1
      ? { up: true }
      : { up: false, detail: 'unexpected answer to SELECT 1' };
  } catch (err) {
    return { up: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
