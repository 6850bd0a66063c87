/**
 * The first exposure of an experiment as the tables have it now: the earliest first exposure of a live unit
 * (analysed or not), where a time series starts. Grouped on the row identity minus the unit, as the
 * experiments listing does, so it never groups by unit id. Cost O(exposure rows of the experiment).
 */
import type { ClickHouseClient } from '@clickhouse/client';

/** Unix ms, or null when the experiment has no live exposure. */
export async function experimentFirstExposure(
  client: ClickHouseClient,
  project: string,
  experiment: string,
): Promise<number | null> {
  const result = await client.query({
    query: `SELECT toFloat64(min(ms)) AS first_ms, count() AS groups
            FROM (
              SELECT toUnixTimestamp64Milli(first_exposure_at) AS ms
              FROM exposures
              WHERE project = {project:String} AND experiment = {experiment:String}
              GROUP BY variation, multiple_exposure, first_exposure_at
              HAVING sum(sign) > 0
            )`,
    query_params: { project, experiment },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ first_ms: number | string; groups: number | string }>();
  return row === undefined || Number(row.groups) === 0 ? null : Number(row.first_ms);
}
