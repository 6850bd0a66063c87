/**
 * The experiments of a project as the exposure table has them now: variations with their analysed units,
 * multiple-exposure units, and the earliest and latest first exposure among live units.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface ExperimentSummary {
  experiment: string;
  /** Variations sorted by name, each with its analysed (live, single-variation) units. */
  variations: { variation: string; units: number }[];
  /** Analysed units over all variations. */
  units: number;
  multipleExposureUnits: number;
  /** Earliest / latest first exposure of a live unit, unix ms; null when no unit is live. */
  firstExposureAt: number | null;
  lastExposureAt: number | null;
}

/** One row of the listing query (numbers may arrive as strings from a ClickHouse server). */
export interface ExperimentRow {
  experiment: string;
  variation: string;
  multiple_exposure: boolean | number;
  units: number | string;
  live_groups: number | string;
  first_ms: number | string;
  last_ms: number | string;
}

/**
 * One scan of the project's exposure rows. Rows are grouped by their identity minus the unit, so each
 * group's Σ sign is the number of live units with exactly that (variation, flag, first exposure): > 0
 * marks a time some live unit was first exposed at. That gives exact first/last exposures of live units
 * while grouping on cheap fixed-width keys instead of on unit ids. Cost O(exposure rows of the project).
 */
export async function listExperiments(
  client: ClickHouseClient,
  project: string,
): Promise<ExperimentSummary[]> {
  const rows = await (
    await client.query({
      query: `SELECT experiment, variation, multiple_exposure,
                     toFloat64(sum(live)) AS units,
                     toFloat64(countIf(live > 0)) AS live_groups,
                     toFloat64(toUnixTimestamp64Milli(minIf(fe, live > 0))) AS first_ms,
                     toFloat64(toUnixTimestamp64Milli(maxIf(fe, live > 0))) AS last_ms
              FROM (
                SELECT experiment, variation, multiple_exposure, first_exposure_at AS fe, sum(sign) AS live
                FROM exposures
                WHERE project = {project:String}
                GROUP BY experiment, variation, multiple_exposure, first_exposure_at
              )
              GROUP BY experiment, variation, multiple_exposure`,
      query_params: { project },
      format: 'JSONEachRow',
    })
  ).json<ExperimentRow>();
  return summarise(rows);
}

/** Pure: rows per (experiment, variation, multiple_exposure) → one summary per experiment, sorted by name. */
export function summarise(rows: readonly ExperimentRow[]): ExperimentSummary[] {
  const byExperiment = new Map<string, ExperimentSummary & { perVariation: Map<string, number> }>();
  for (const row of rows) {
    let summary = byExperiment.get(row.experiment);
    if (summary === undefined) {
      summary = {
        experiment: row.experiment,
        variations: [],
        units: 0,
        multipleExposureUnits: 0,
        firstExposureAt: null,
        lastExposureAt: null,
        perVariation: new Map(),
      };
      byExperiment.set(row.experiment, summary);
    }
    const units = Math.max(0, Math.round(Number(row.units)));
    const multiple = row.multiple_exposure === true || Number(row.multiple_exposure) === 1;
    const analysed = summary.perVariation.get(row.variation) ?? 0;
    summary.perVariation.set(row.variation, multiple ? analysed : analysed + units);
    if (multiple) summary.multipleExposureUnits += units;
    else summary.units += units;
    if (Number(row.live_groups) > 0) {
      const first = Number(row.first_ms);
      const last = Number(row.last_ms);
      summary.firstExposureAt =
        summary.firstExposureAt === null ? first : Math.min(summary.firstExposureAt, first);
      summary.lastExposureAt =
        summary.lastExposureAt === null ? last : Math.max(summary.lastExposureAt, last);
    }
  }
  return [...byExperiment.values()]
    .sort((a, b) => compareNames(a.experiment, b.experiment))
    .map(({ perVariation, ...summary }) => ({
      ...summary,
      variations: [...perVariation]
        .sort(([a], [b]) => compareNames(a, b))
        .map(([variation, units]) => ({ variation, units })),
    }));
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
