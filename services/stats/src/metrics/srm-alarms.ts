/**
 * Which experiments have a sample ratio mismatch now, for the `liftstream_stats_srm_alarms` gauge. Pure:
 * the experiment summaries come from storage, the test is the results endpoint's own (`computeResults`),
 * so an alarm here is exactly the `srm.p_value` a results request over all time would show.
 */
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { expectedWeightsFor } from '../http/results-response.ts';
import { computeResults } from '../math/experiment-results.ts';
import type { ExperimentSummary } from '../storage/experiments-query.ts';
import { statsOfUnitsOnly } from '../math/absent-variation.ts';

/** An SRM p-value below this raises the alarm: the threshold GrowthBook and Statsig warn at. */
export const SRM_ALARM_P_VALUE = 0.001;

/** Experiments count as running while some live unit was first exposed within this window, ms (7 days). */
export const SRM_ACTIVE_WINDOW_MS = 7 * 24 * 3_600_000;

export interface SrmAlarm {
  project: string;
  experiment: string;
  /** The results endpoint's `srm.p_value` over all time; null when undefined (one variation, no units). */
  pValue: number | null;
  /** pValue < SRM_ALARM_P_VALUE. */
  alarm: boolean;
  /** Latest first exposure of a live unit, unix ms. */
  lastExposureAt: number;
}

/**
 * The SRM check of each running experiment of `project` (a first exposure of a live unit within
 * SRM_ACTIVE_WINDOW_MS of `nowMs`), weighted by the project's `expectedSplit` as the results endpoint
 * does. Experiments whose configured split is unusable (the endpoint answers `invalid_configuration`)
 * are left out rather than alarmed on.
 */
export function srmAlarms(
  project: Pick<ProjectSettings, 'id' | 'expectedSplit'>,
  experiments: readonly ExperimentSummary[],
  nowMs: number,
): SrmAlarm[] {
  const alarms: SrmAlarm[] = [];
  for (const summary of experiments) {
    const last = summary.lastExposureAt;
    if (last === null || nowMs - last > SRM_ACTIVE_WINDOW_MS) continue;
    const first = summary.variations[0];
    if (first === undefined) continue;
    // SRM reads only the units per variation; the metric sums are zero and their results unused.
    const outcome = computeResults({
      variations: summary.variations.map((v) => statsOfUnitsOnly(v.variation, v.units)),
      control: first.variation,
      expectedWeights: expectedWeightsFor(project.expectedSplit, summary.experiment),
    });
    if (!outcome.ok) continue;
    const pValue = outcome.value.srm.p_value;
    alarms.push({
      project: project.id,
      experiment: summary.experiment,
      pValue,
      alarm: pValue !== null && pValue < SRM_ALARM_P_VALUE,
      lastExposureAt: last,
    });
  }
  return alarms;
}
