/**
 * GET /v1/ingest/summary: the key's project's ingest health over the last `hours`: events the gateways
 * accepted, rejected (by code) and dropped (by reason), from the reports every gateway process sends each
 * INGEST_REPORT_INTERVAL_MS (services/stats/src/ingest-reports/). Read keys only; filtered by the key's project.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Type } from '@sinclair/typebox';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { ingestSummary } from '../ingest-reports/ingest-reports-store.ts';
import { authorizeRead } from './auth.ts';
import { errors, security, storage } from './results-routes.ts';

export interface IngestSummaryRouteDeps {
  catalog: ProjectCatalog;
  clickhouse: ClickHouseClient;
  /** The end of the range (tests pin it). */
  now: () => Date;
}

/** `hours` when the request names none, and its bounds (720 hours = 30 days, within the table's TTL). */
export const DEFAULT_SUMMARY_HOURS = 24;
export const MAX_SUMMARY_HOURS = 720;
const HOUR_MS = 3_600_000;

/** OpenAPI 3.0's nullable, as route-schemas.ts spells it. */
function orNull<T extends TSchema>(schema: T) {
  return Type.Unsafe<T['static'] | null>({ ...schema, nullable: true });
}

const Counts = (keyedBy: string) =>
  Type.Object({}, { additionalProperties: Type.Integer(), description: `Events keyed by ${keyedBy}` });

export const IngestSummaryQuerySchema = Type.Object({
  hours: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_SUMMARY_HOURS,
      description: `The range: the last this many hours up to now; default ${DEFAULT_SUMMARY_HOURS}, at most ${MAX_SUMMARY_HOURS}`,
    }),
  ),
});

export const IngestSummaryResponseSchema = Type.Object(
  {
    project: Type.String(),
    from: Type.String({ format: 'date-time', description: 'Start of the range: now − hours' }),
    to: Type.String({ format: 'date-time', description: 'End of the range: now' }),
    accepted: Type.Integer({ description: 'Events acknowledged by Kafka (durably ingested)' }),
    rejected: Type.Object({
      total: Type.Integer(),
      by_code: Counts("rejection code (the gateway's validation codes, and malformed_json)"),
    }),
    dropped: Type.Object({
      total: Type.Integer(),
      by_reason: Counts('drop reason (bot)'),
    }),
    gateways: Type.Integer({
      description: 'Distinct gateway processes (a restart is a new one) with a report in the range',
    }),
    last_report_at: orNull(
      Type.String({
        format: 'date-time',
        description: "End of the latest report's window in the range; null when the range has none",
      }),
    ),
  },
  { title: 'Ingest summary' },
);

export function ingestSummaryRoutes(deps: IngestSummaryRouteDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/ingest/summary',
      {
        schema: {
          summary: "The key's project's ingest health: events accepted, rejected and dropped",
          description:
            'Sums the reports each gateway process sends every INGEST_REPORT_INTERVAL_MS (default 10 s) with the ' +
            "project's events it accepted, rejected (by code) and dropped (by reason, e.g. bots) since its previous " +
            'report. A report counts whole when its window overlaps the range, so one that began before `from` adds ' +
            'its events from before `from` too (at most one report interval per gateway); the events of the last ' +
            'interval may not be reported yet. Each report counts once however often it was delivered. Read keys only.',
          security,
          querystring: IngestSummaryQuerySchema,
          response: { 200: IngestSummaryResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const hours = (request.query as { hours?: number }).hours ?? DEFAULT_SUMMARY_HOURS;
        const to = deps.now().getTime();
        const from = to - hours * HOUR_MS;
        const summary = await storage(() => ingestSummary(deps.clickhouse, project.id, from, to));
        return {
          project: project.id,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          accepted: summary.accepted,
          rejected: { total: total(summary.rejected), by_code: summary.rejected },
          dropped: { total: total(summary.dropped), by_reason: summary.dropped },
          gateways: summary.gateways,
          last_report_at: summary.lastReportAt === null ? null : new Date(summary.lastReportAt).toISOString(),
        };
      },
    );
  };
}

function total(counts: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}
