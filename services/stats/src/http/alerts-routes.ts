/**
 * GET /v1/alerts: the key's project's alerts (services/stats/README.md, "Alerts"), open ones or open and
 * past, newest first, at most MAX_ALERTS_LISTED. Read keys only; filtered by the key's project.
 */
import type { FastifyInstance } from 'fastify';
import type { ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import type { AlertsListing, StoredAlert } from '../storage/alerts-store.ts';
import { AlertsQuerySchema, AlertsResponseSchema } from './alert-schemas.ts';
import { authorizeRead } from './auth.ts';
import { errors, security, storage } from './results-routes.ts';

export interface AlertsRouteDeps {
  catalog: ProjectCatalog;
  /** listAlerts on the service's ClickHouse client. */
  listAlerts(listing: AlertsListing): Promise<StoredAlert[]>;
}

/** Alerts listed when the request names no limit. */
export const DEFAULT_ALERTS_LISTED = 100;

export function alertsRoutes(deps: AlertsRouteDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/alerts',
      {
        schema: {
          summary: "The key's project's alerts: SRM and guardrail breaches, open or past",
          description:
            'An alert is raised once per (experiment, kind, metric) when its condition starts to hold (SRM p-value < 0.001; a ' +
            "guardrail metric's sequential interval wholly on its bad side) and cleared when it stops. Each has the figures " +
            'that raised it and, once cleared, those that cleared it. Newest raised first. Read keys only.',
          security,
          querystring: AlertsQuerySchema,
          response: { 200: AlertsResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const query = request.query as { state?: 'open' | 'all'; experiment?: string; limit?: number };
        const state = query.state ?? 'open';
        const alerts = await storage(() =>
          deps.listAlerts({
            project: project.id,
            state,
            experiment: query.experiment,
            limit: query.limit ?? DEFAULT_ALERTS_LISTED,
          }),
        );
        return {
          project: project.id,
          state,
          alerts: alerts.map((a) => ({
            id: a.id,
            experiment: a.experiment,
            kind: a.kind,
            metric: a.metric,
            state: a.state,
            raised_at: new Date(a.raisedAt).toISOString(),
            cleared_at: a.clearedAt === null ? null : new Date(a.clearedAt).toISOString(),
            details: a.raisedDetails,
            cleared_details: a.clearedDetails,
          })),
        };
      },
    );
  };
}
