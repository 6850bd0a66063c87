/**
 * What an experiment's alert conditions are now (docs/semantics.md, "Monitoring"), from the figures its
 * results answer shows. Pure: the evaluator loads the statistics, this decides.
 * - `srm`: the SRM p-value of the results answer (project's expectedSplit, else an equal split) < 0.001;
 * - `guardrail` (one per metric): some treatment's sequential interval of the relative lift lies wholly on
 *   the metric's bad side: `direction: increase` (higher is better) when its upper end is < 0, `decrease`
 *   when its lower end is > 0. The sequential interval, not the fixed-horizon one: the alerting reads the
 *   results every time the data change, which is exactly the peeking a fixed-horizon interval cannot bear.
 */
import type { Direction, MetricConfig } from '../../../../shared/projects/metric-catalog.ts';
import { MAX_METRICS_PER_SET } from '../../../../shared/projects/metric-catalog.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import type { MetricResults, MetricVariationResult } from '../math/metric-results.ts';
import type { SrmResult } from '../math/types.ts';
import { SRM_ALARM_P_VALUE } from '../metrics/srm-alarms.ts';

export type AlertKind = 'srm' | 'guardrail';

/** The SRM figures of the results answer when the alert changed state. */
export interface SrmAlertDetails {
  p_value: number | null;
  /** The p-value below which the alert holds (0.001). */
  threshold: number;
  observed: Record<string, number>;
  expected: Record<string, number>;
}

/** One treatment of a guardrail metric: its lift and the sequential block of the results answer. */
export interface GuardrailVariationDetails {
  variation: string;
  lift: number | null;
  sequential: MetricVariationResult['sequential'];
  /** The sequential interval lies wholly on the bad side. */
  breached: boolean;
}

export interface GuardrailAlertDetails {
  direction: Direction;
  control: string;
  variations: GuardrailVariationDetails[];
}

export type AlertDetails = SrmAlertDetails | GuardrailAlertDetails;

/** One condition as evaluated now; `metric` is null for SRM. */
export interface AlertObservation {
  kind: AlertKind;
  metric: string | null;
  holds: boolean;
  details: AlertDetails;
}

/**
 * One experiment's evaluation. `checked` says which kinds were evaluated: an open alert of a kind that was
 * not (a configured split missing a variation, no control variation for the guardrails) is left as it is,
 * neither confirmed nor cleared.
 */
export interface ExperimentEvaluation {
  project: string;
  experiment: string;
  checked: Record<AlertKind, boolean>;
  observations: AlertObservation[];
}

/** The confidence of the sequential intervals alerts read: the results answer's default. */
export const ALERT_CONFIDENCE = 0.95;

/** The SRM condition from the results answer's `srm` block. */
export function srmObservation(srm: SrmResult): AlertObservation {
  return {
    kind: 'srm',
    metric: null,
    holds: srm.p_value !== null && srm.p_value < SRM_ALARM_P_VALUE,
    details: {
      p_value: srm.p_value,
      threshold: SRM_ALARM_P_VALUE,
      observed: { ...srm.observed },
      expected: { ...srm.expected },
    },
  };
}

/** Whether a sequential interval of the relative lift lies wholly on the bad side of `direction`. */
export function breachesGuardrail(interval: readonly [number, number] | null, direction: Direction): boolean {
  if (interval === null) return false;
  return direction === 'increase' ? interval[1] < 0 : interval[0] > 0;
}

/** A guardrail metric's condition: holds while any treatment breaches. */
export function guardrailObservation(
  metric: Pick<MetricConfig, 'id' | 'direction'>,
  results: MetricResults,
  control: string,
): AlertObservation {
  const variations = results.variations
    .filter((v) => v.variation !== control)
    .map((v) => ({
      variation: v.variation,
      lift: v.lift,
      sequential: v.sequential,
      breached: breachesGuardrail(v.sequential?.lift_ci ?? null, metric.direction),
    }));
  return {
    kind: 'guardrail',
    metric: metric.id,
    holds: variations.some((v) => v.breached),
    details: { direction: metric.direction, control, variations },
  };
}

/**
 * The guardrail metrics alerts watch in `experiment`: its metric set's `guardrails`, then every catalogue
 * metric marked `guardrail: true` (a metric declared a guardrail is one for every experiment, with or
 * without a metric set). At most MAX_METRICS_PER_SET, the bound of one results request, so an evaluation
 * costs no more than one results request; `dropped` counts those beyond it.
 */
export function guardrailMetricsOf(
  project: Pick<ProjectSettings, 'metrics' | 'experiments'>,
  experiment: string,
): { metrics: MetricConfig[]; dropped: number } {
  const byId = new Map(project.metrics.map((m) => [m.id, m]));
  const ids = new Set(project.experiments[experiment]?.guardrails ?? []);
  for (const metric of project.metrics) if (metric.guardrail) ids.add(metric.id);
  const metrics = [...ids].flatMap((id) => {
    const metric = byId.get(id);
    return metric === undefined ? [] : [metric];
  });
  return {
    metrics: metrics.slice(0, MAX_METRICS_PER_SET),
    dropped: Math.max(0, metrics.length - MAX_METRICS_PER_SET),
  };
}
