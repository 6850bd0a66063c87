/**
 * The stats app as the API tests build it: default client limits, a silent logger, fresh metrics without
 * process defaults, and a fixed clock for `computed_at`.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../../shared/logging/logger.ts';
import type { ProjectCatalog } from '../../../shared/projects/project-catalog.ts';
import { buildStatsApp } from '../../../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../../../services/stats/src/config.ts';
import { createStatsMetrics } from '../../../services/stats/src/stats-metrics.ts';

export function testStatsApp(
  catalog: ProjectCatalog,
  clickhouse: ClickHouseClient,
  now: Date,
): Promise<FastifyInstance> {
  return buildStatsApp({
    config: STATS_CLIENT_LIMITS,
    catalog,
    clickhouse,
    logger: createLogger('stats-test', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
    now: () => now,
  });
}

/** GET `url` from the app with a read key; the status and the JSON body. */
export async function getJson(
  app: FastifyInstance,
  readKey: string,
  url: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${readKey}` } });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}
