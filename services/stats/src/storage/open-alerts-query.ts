/**
 * Open alerts per experiment of a project, counted by kind, for the experiments listing's health badge (so
 * a page shows it without one GET /v1/alerts per experiment). Open means as GET /v1/alerts?state=open has
 * it (alerts-store.ts): raised, and no `cleared` row with its id. One scan of the project's alert rows,
 * which are transitions and few by nature.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { AlertKind } from '../alerts/alert-conditions.ts';

export interface OpenAlertCounts {
  total: number;
  byKind: Partial<Record<AlertKind, number>>;
}

export async function openAlertCounts(
  client: ClickHouseClient,
  project: string,
): Promise<Map<string, OpenAlertCounts>> {
  const rows = await (
    await client.query({
      // Aliases differ from the columns: ClickHouse would read an alias named `experiment` in WHERE.
      query: `SELECT of_experiment, of_kind, toFloat64(count()) AS open
              FROM (
                SELECT id, any(experiment) AS of_experiment, any(kind) AS of_kind
                FROM alerts
                WHERE project = {project:String}
                GROUP BY id
                HAVING countIf(state = 'cleared') = 0
              )
              GROUP BY of_experiment, of_kind`,
      query_params: { project },
      format: 'JSONEachRow',
    })
  ).json<{ of_experiment: string; of_kind: AlertKind; open: number | string }>();
  return countsByExperiment(rows.map((r) => ({ ...r, open: Number(r.open) })));
}

/** Pure: rows per (experiment, kind) → one total and per-kind count per experiment. */
export function countsByExperiment(
  rows: readonly { of_experiment: string; of_kind: AlertKind; open: number }[],
): Map<string, OpenAlertCounts> {
  const counts = new Map<string, OpenAlertCounts>();
  for (const row of rows) {
    const entry = counts.get(row.of_experiment) ?? { total: 0, byKind: {} };
    entry.total += row.open;
    entry.byKind[row.of_kind] = (entry.byKind[row.of_kind] ?? 0) + row.open;
    counts.set(row.of_experiment, entry);
  }
  return counts;
}
