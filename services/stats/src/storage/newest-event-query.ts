/**
 * Freshness: per experiment, the time of its newest counted event, the newest of its live analysed units'
 * first exposures and of its live attributed events' timestamps (event time, as producers stamped them:
 * a client whose clock runs ahead can make it later than now; readers must not show a negative age).
 *
 * How exact "live" is, and what it costs: exact. A row identity's Σ sign is 0 or 1 (a retraction is an
 * identical copy of an earlier assertion, so it has the same timestamp), hence Σ sign over all rows with one
 * timestamp, or within one hour, is the number of live rows there. The query finds each experiment's newest
 * hour holding a live row (a group per (experiment, hour): small), then the newest live timestamp within that
 * hour (a group per distinct timestamp of that hour only). So an event retracted later (its unit merged into
 * another, or became a multiple-exposure unit) never makes an experiment look fresher than it is, and memory
 * stays bounded; the price is two scans of the (experiment, timestamp, sign) columns of the project's rows
 * (of the experiment's with `experiment`), O(rows), where a "max(timestamp) of +1 rows" would have needed
 * one scan and been wrong after retractions. The tables' sort keys do not help here (timestamp comes after
 * the unit), which is why no ORDER BY ... LIMIT shortcut is taken.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface NewestEventQuery {
  project: string;
  /** Only this experiment; all of the project's otherwise. */
  experiment?: string | undefined;
}

/** Unix ms of the newest counted event per experiment; experiments with nothing live are absent. */
export async function newestCountedEvents(
  client: ClickHouseClient,
  query: NewestEventQuery,
): Promise<Map<string, number>> {
  const only = query.experiment === undefined ? '' : ' AND experiment = {experiment:String}';
  const rows = await (
    await client.query({
      query: `SELECT of_experiment, toFloat64(toUnixTimestamp64Milli(max(newest))) AS newest_ms
              FROM (
                ${newestLive('exposures', 'first_exposure_at', `${only} AND NOT multiple_exposure`)}
                UNION ALL
                ${newestLive('attributed', 'timestamp', only)}
              )
              GROUP BY of_experiment`,
      query_params: {
        project: query.project,
        ...(query.experiment === undefined ? {} : { experiment: query.experiment }),
      },
      format: 'JSONEachRow',
    })
  ).json<{ of_experiment: string; newest_ms: number | string }>();
  return new Map(rows.map((r) => [r.of_experiment, Number(r.newest_ms)]));
}

/**
 * The newest live `time` per experiment of one signed table. Aliases differ from column names: a ClickHouse
 * alias is visible in its whole SELECT and would shadow the column.
 */
function newestLive(table: 'exposures' | 'attributed', time: string, filter: string): string {
  const where = `project = {project:String}${filter}`;
  return `SELECT experiment AS of_experiment, max(at) AS newest
          FROM (
            SELECT experiment, ${time} AS at
            FROM ${table}
            WHERE ${where} AND (experiment, toStartOfHour(${time})) IN (
              SELECT experiment, max(hour)
              FROM (
                SELECT experiment, toStartOfHour(${time}) AS hour
                FROM ${table}
                WHERE ${where}
                GROUP BY experiment, hour
                HAVING sum(sign) > 0
              )
              GROUP BY experiment
            )
            GROUP BY experiment, at
            HAVING sum(sign) > 0
          )
          GROUP BY experiment`;
}
