/**
 * The `alerts` table (shared/clickhouse/migrations/0005_alerts.sql): one row per transition. Why ClickHouse
 * rather than a file under a state directory: it is already the stats service's durable store, backed up and
 * restored with the data the alerts are about, shared by every stats process of a deployment (so GET
 * /v1/alerts answers the same from any of them), and the sink's state directory is removed on stop by
 * design. Alerts are rare, so the table stays small and every read below is a scan of one project's rows.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { formatDateTime64 } from '../../../sink/src/index.ts';
import type { AlertDetails, AlertKind } from '../alerts/alert-conditions.ts';
import type { AlertTransition, OpenAlert } from '../alerts/alert-state.ts';

/** The most alerts one listing returns. */
export const MAX_ALERTS_LISTED = 1_000;

/** Stores transitions (one insert). A retry after an ambiguous failure may store a row twice: readers group by id. */
export async function insertAlertTransitions(
  client: ClickHouseClient,
  transitions: readonly AlertTransition[],
): Promise<void> {
  if (transitions.length === 0) return;
  await client.insert({
    table: 'alerts',
    format: 'JSONEachRow',
    values: transitions.map((t) => ({
      project: t.project,
      experiment: t.experiment,
      kind: t.kind,
      metric: t.metric ?? '',
      id: t.id,
      state: t.state,
      at: formatDateTime64(t.at),
      raised_at: formatDateTime64(t.raisedAt),
      details: JSON.stringify(t.details),
    })),
  });
}

/** The open alerts (raised, never cleared) of `projects`, to resume the state machine after a restart. */
export async function loadOpenAlerts(
  client: ClickHouseClient,
  projects: readonly string[],
): Promise<OpenAlert[]> {
  if (projects.length === 0) return [];
  const rows = await (
    await client.query({
      query:
        // Aliases differ from the columns: ClickHouse would read an alias named `project` in WHERE.
        'SELECT id, any(project) AS of_project, any(experiment) AS of_experiment, any(kind) AS of_kind, ' +
        'any(metric) AS of_metric, toFloat64(toUnixTimestamp64Milli(min(raised_at))) AS raised_ms FROM alerts ' +
        'WHERE project IN {projects:Array(String)} GROUP BY id ' +
        "HAVING countIf(state = 'cleared') = 0 ORDER BY raised_ms, id",
      query_params: { projects },
      format: 'JSONEachRow',
    })
  ).json<{
    id: string;
    of_project: string;
    of_experiment: string;
    of_kind: AlertKind;
    of_metric: string;
    raised_ms: number;
  }>();
  return rows.map((r) => ({
    id: r.id,
    project: r.of_project,
    experiment: r.of_experiment,
    kind: r.of_kind,
    metric: r.of_metric === '' ? null : r.of_metric,
    raisedAt: Number(r.raised_ms),
  }));
}

export interface AlertsListing {
  project: string;
  /** `open`: only alerts not cleared; `all`: open and past. */
  state: 'open' | 'all';
  experiment?: string | undefined;
  /** At most MAX_ALERTS_LISTED. */
  limit: number;
}

/** An alert as GET /v1/alerts lists it. */
export interface StoredAlert {
  id: string;
  experiment: string;
  kind: AlertKind;
  metric: string | null;
  state: 'open' | 'cleared';
  raisedAt: number;
  clearedAt: number | null;
  raisedDetails: AlertDetails | null;
  clearedDetails: AlertDetails | null;
}

/** A project's alerts, newest raised first. */
export async function listAlerts(client: ClickHouseClient, listing: AlertsListing): Promise<StoredAlert[]> {
  const rows = await (
    await client.query({
      query:
        'SELECT id, any(experiment) AS of_experiment, any(kind) AS of_kind, any(metric) AS of_metric, ' +
        'toFloat64(toUnixTimestamp64Milli(min(raised_at))) AS raised_ms, ' +
        "countIf(state = 'cleared') > 0 AS is_cleared, " +
        "toFloat64(toUnixTimestamp64Milli(minIf(at, state = 'cleared'))) AS cleared_ms, " +
        "anyIf(details, state = 'raised') AS raised_details, anyIf(details, state = 'cleared') AS cleared_details " +
        'FROM alerts WHERE project = {project:String}' +
        (listing.experiment === undefined ? '' : ' AND experiment = {experiment:String}') +
        ' GROUP BY id' +
        (listing.state === 'open' ? ' HAVING NOT is_cleared' : '') +
        ' ORDER BY raised_ms DESC, id LIMIT {limit:UInt32}',
      query_params: {
        project: listing.project,
        limit: Math.min(listing.limit, MAX_ALERTS_LISTED),
        ...(listing.experiment === undefined ? {} : { experiment: listing.experiment }),
      },
      format: 'JSONEachRow',
    })
  ).json<{
    id: string;
    of_experiment: string;
    of_kind: AlertKind;
    of_metric: string;
    raised_ms: number;
    is_cleared: boolean | number;
    cleared_ms: number;
    raised_details: string;
    cleared_details: string;
  }>();
  return rows.map((r) => {
    const cleared = Boolean(Number(r.is_cleared));
    return {
      id: r.id,
      experiment: r.of_experiment,
      kind: r.of_kind,
      metric: r.of_metric === '' ? null : r.of_metric,
      state: cleared ? 'cleared' : 'open',
      raisedAt: Number(r.raised_ms),
      clearedAt: cleared ? Number(r.cleared_ms) : null,
      raisedDetails: parseDetails(r.raised_details),
      clearedDetails: cleared ? parseDetails(r.cleared_details) : null,
    };
  });
}

function parseDetails(text: string): AlertDetails | null {
  if (text === '') return null;
  return JSON.parse(text) as AlertDetails | null;
}
