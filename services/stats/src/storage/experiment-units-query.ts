/**
 * Live units per variation of several experiments of one project in one query, for the alerts' SRM checks:
 * the GROUP BY matches the `per_variation` projection of `exposures`, so it reads O(experiments ×
 * variations) pre-aggregated rows, not the units. One query for every experiment due at once matters with
 * embedded ClickHouse, where each query waits for the sink's insert in progress (and delays the next).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { VariationUnitsRow } from './results-aggregates.ts';

/** Rows per experiment; an experiment without any stored exposure is absent. */
export async function queryExperimentUnits(
  client: ClickHouseClient,
  project: string,
  experiments: readonly string[],
): Promise<Map<string, VariationUnitsRow[]>> {
  const out = new Map<string, VariationUnitsRow[]>();
  if (experiments.length === 0) return out;
  const rows = await (
    await client.query({
      query:
        'SELECT experiment, variation, multiple_exposure, toFloat64(sum(sign)) AS units FROM exposures ' +
        'WHERE project = {project:String} AND experiment IN {experiments:Array(String)} ' +
        'GROUP BY experiment, variation, multiple_exposure',
      query_params: { project, experiments },
      format: 'JSONEachRow',
    })
  ).json<{
    experiment: string;
    variation: string;
    multiple_exposure: boolean | number;
    units: number | string;
  }>();
  for (const r of rows) {
    const list = out.get(r.experiment) ?? [];
    list.push({
      variation: r.variation,
      multipleExposure: r.multiple_exposure === true || Number(r.multiple_exposure) === 1,
      units: Number(r.units),
    });
    out.set(r.experiment, list);
  }
  return out;
}
