/**
 * The stats app as main.ts builds it (buildStatsApp), for route tests that need no database: a project
 * catalog from plain settings, a silent logger, fresh metrics, and whatever ClickHouse stand-in the test
 * gives (by default one that must never be queried).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { buildStatsApp } from '../../../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../../../services/stats/src/config.ts';
import { createStatsMetrics } from '../../../services/stats/src/stats-metrics.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { parseProjectCatalog } from '../../../shared/projects/project-catalog.ts';

const NEVER_QUERIED = {
  query: async () => {
    throw new Error('this test expects no ClickHouse query');
  },
} as unknown as ClickHouseClient;

export async function statsAppWithStandIn(opts: {
  /** The projects file's `projects`. */
  projects: unknown[];
  clickhouse?: ClickHouseClient;
  /** STATS_UI_DIR. */
  uiDir?: string;
}): Promise<FastifyInstance> {
  return buildStatsApp({
    config: { ...STATS_CLIENT_LIMITS, ...(opts.uiDir === undefined ? {} : { uiDir: opts.uiDir }) },
    catalog: parseProjectCatalog({ projects: opts.projects }),
    clickhouse: opts.clickhouse ?? NEVER_QUERIED,
    logger: createLogger('stats-route-test', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
  });
}
