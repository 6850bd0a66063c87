/**
 * The catalogue answers (GET .../results with metrics or a metric set, by dimension, and
 * .../results/timeseries) against the batch reference: the reference's per-variation sufficient statistics
 * (test/e2e/reference/metric-reference.ts) through the verified statistics layer, compared with what the
 * stats service returns: counts exactly, figures to 1e-9 relative.
 */
import { computeMetricResults } from '../../services/stats/src/math/metric-results.ts';
import type { MetricStats } from '../../services/stats/src/math/metric-stats.ts';
import { DEFAULT_SEQUENTIAL_TUNING_PARAMETER } from '../../services/stats/src/math/sequential-t-test.ts';
import { srmResult } from '../../services/stats/src/math/srm.ts';
import type { SequentialBlock } from '../../services/stats/src/math/types.ts';
import type { MetricConfig } from '../../shared/projects/metric-catalog.ts';
import { awaitConverged } from '../helpers/await-converged.ts';
import type { Pipeline } from '../helpers/pipeline.ts';
import {
  referenceDimensionBreakdown,
  referenceMetricStats,
  referenceMetricTimeseries,
} from './reference/metric-reference.ts';
import type { AcceptedEvent, ReferenceSettings } from './reference/semantics-reference.ts';
import { expectedAccepted, type Scenario } from './scenario/scenario-generator.ts';

const TOLERANCE = { relative: 1e-9, absolute: 1e-12 };

/** The figures of one metric block the comparison reads. */
interface VariationFigures {
  variation: string;
  units: number;
  conversions: number;
  sum?: number;
  estimate: number | null;
  variance?: number | null;
  lift: number | null;
  lift_ci: [number, number] | null;
  p_value: number | null;
  adjusted_p_value?: number | null;
  /** Always-valid block (absent from the expectation only where the answer has no such field). */
  sequential?: SequentialBlock | null;
  /** CUPED-adjusted figures (null where the metric has no `cuped`), compared field by field. */
  cuped?: unknown;
}

interface MetricBlock {
  metric: string;
  cap_value: number | null;
  variations: VariationFigures[];
}

interface Group {
  units: { variation: string; units: number }[];
  multiple_exposure_units: number;
  srm: { p_value: number | null };
  metrics: MetricBlock[];
}

interface MetricResultsBody extends Group {
  values?: (Group & { value: string })[];
}

interface TimeseriesBody {
  points: { as_of: string; variations: VariationFigures[] }[];
}

function close(a: number | null | undefined, e: number | null | undefined): boolean {
  if (a === null || a === undefined || e === null || e === undefined) return (a ?? null) === (e ?? null);
  return (
    Math.abs(a - e) <= Math.max(TOLERANCE.relative * Math.max(Math.abs(a), Math.abs(e)), TOLERANCE.absolute)
  );
}

function blockDifferences(
  where: string,
  actual: MetricBlock | undefined,
  expected: MetricBlock,
  out: string[],
): void {
  if (actual === undefined) {
    out.push(`${where}: metric missing`);
    return;
  }
  if (!close(actual.cap_value, expected.cap_value))
    out.push(`${where}.cap_value: ${actual.cap_value} vs ${expected.cap_value}`);
  variationDifferences(where, actual.variations, expected.variations, out);
}

function variationDifferences(
  where: string,
  actual: VariationFigures[],
  expected: VariationFigures[],
  out: string[],
): void {
  if (actual.map((v) => v.variation).join() !== expected.map((v) => v.variation).join()) {
    out.push(
      `${where}: variations ${actual.map((v) => v.variation).join()} vs ${expected.map((v) => v.variation).join()}`,
    );
    return;
  }
  expected.forEach((e, i) => {
    const a = actual[i] as VariationFigures;
    const at = `${where}.${e.variation}`;
    for (const f of ['units', 'conversions'] as const)
      if (a[f] !== e[f]) out.push(`${at}.${f}: ${a[f]} vs ${e[f]}`);
    for (const f of ['sum', 'estimate', 'variance', 'lift', 'p_value', 'adjusted_p_value'] as const) {
      if (!(f in e)) continue;
      if (!close(a[f], e[f])) out.push(`${at}.${f}: ${a[f]} vs ${e[f]}`);
    }
    for (const k of [0, 1] as const) {
      if (!close(a.lift_ci?.[k], e.lift_ci?.[k]))
        out.push(`${at}.lift_ci[${k}]: ${a.lift_ci?.[k]} vs ${e.lift_ci?.[k]}`);
    }
    if (e.sequential !== undefined)
      sequentialDifferences(`${at}.sequential`, a.sequential, e.sequential, out);
    if (e.cuped !== undefined) deepDifferences(`${at}.cuped`, a.cuped, e.cuped, out);
  });
}

/**
 * Every field of `expected` in `actual`: numbers within TOLERANCE, everything else equal; walks objects and
 * arrays (a block whose shape the comparison need not spell out, such as `cuped`).
 */
function deepDifferences(at: string, actual: unknown, expected: unknown, out: string[]): void {
  if (typeof expected === 'number' || typeof actual === 'number') {
    const a = typeof actual === 'number' ? actual : null;
    const e = typeof expected === 'number' ? expected : null;
    if (!close(a, e) || (a === null) !== (actual === null))
      out.push(`${at}: ${String(actual)} vs ${String(expected)}`);
    return;
  }
  if (expected === null || typeof expected !== 'object' || actual === null || typeof actual !== 'object') {
    if ((actual ?? null) !== (expected ?? null))
      out.push(`${at}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
    return;
  }
  for (const [key, value] of Object.entries(expected))
    deepDifferences(`${at}.${key}`, (actual as Record<string, unknown>)[key], value, out);
}

function sequentialDifferences(
  at: string,
  actual: SequentialBlock | null | undefined,
  expected: SequentialBlock | null,
  out: string[],
): void {
  if (actual === undefined || actual === null || expected === null) {
    if ((actual ?? null) !== expected)
      out.push(`${at}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
    return;
  }
  if (actual.tuning_parameter !== expected.tuning_parameter)
    out.push(`${at}.tuning_parameter: ${actual.tuning_parameter} vs ${expected.tuning_parameter}`);
  if (!close(actual.p_value, expected.p_value))
    out.push(`${at}.p_value: ${actual.p_value} vs ${expected.p_value}`);
  for (const k of [0, 1] as const) {
    if (!close(actual.lift_ci?.[k], expected.lift_ci?.[k]))
      out.push(`${at}.lift_ci[${k}]: ${actual.lift_ci?.[k]} vs ${expected.lift_ci?.[k]}`);
  }
}

function groupDifferences(where: string, actual: Group, expected: Group, out: string[]): void {
  const units = (g: Group) => g.units.map((u) => `${u.variation}=${u.units}`).join(',');
  if (units(actual) !== units(expected)) out.push(`${where}.units: ${units(actual)} vs ${units(expected)}`);
  if (actual.multiple_exposure_units !== expected.multiple_exposure_units) {
    out.push(
      `${where}.multiple_exposure_units: ${actual.multiple_exposure_units} vs ${expected.multiple_exposure_units}`,
    );
  }
  if (!close(actual.srm.p_value, expected.srm.p_value))
    out.push(`${where}.srm.p_value: ${actual.srm.p_value} vs ${expected.srm.p_value}`);
  for (const e of expected.metrics)
    blockDifferences(
      `${where}.${e.metric}`,
      actual.metrics.find((m) => m.metric === e.metric),
      e,
      out,
    );
}

/**
 * The block the service must answer for `metric`, from reference statistics; the sequential blocks at the
 * experiment set's tuning parameter, else gbstats' default.
 */
function expectedBlock(
  metric: MetricConfig,
  stats: MetricStats,
  control: string,
  tuning: number | undefined,
): MetricBlock {
  const results = computeMetricResults({
    type: metric.type,
    stats,
    control,
    confidence: 0.95,
    sequentialTuningParameter: tuning ?? DEFAULT_SEQUENTIAL_TUNING_PARAMETER,
  });
  return { metric: metric.id, cap_value: stats.capValue, variations: results.variations };
}

interface ExpectationInput {
  accepted: AcceptedEvent[];
  settings: ReferenceSettings;
  project: string;
  experiment: string;
  metrics: readonly MetricConfig[];
  catalogue: readonly MetricConfig[];
  control: string;
  /** The experiment set's sequential_tuning_parameter, if it has one. */
  tuning: number | undefined;
}

/** The whole-experiment group the service must answer. */
export function expectedGroup(input: ExpectationInput, dimension?: { name: string; value: string }): Group {
  const { accepted, settings, project, experiment } = input;
  const stats = input.metrics.map((m) =>
    referenceMetricStats(
      accepted,
      settings,
      project,
      experiment,
      m,
      input.catalogue,
      dimension === undefined ? {} : { dimension },
    ),
  );
  const units = (stats[0] as MetricStats).variations.map((v) => ({ variation: v.variation, units: v.units }));
  return {
    units,
    multiple_exposure_units: -1, // filled by the caller: the reference's breakdown or view knows it
    srm: { p_value: srmResult(units, settings[project]?.expectedSplit?.[experiment]).p_value },
    metrics: input.metrics.map((m, i) =>
      expectedBlock(m, stats[i] as MetricStats, input.control, input.tuning),
    ),
  };
}

/**
 * Guards the comparison against a scenario in which no CUPED metric has a covariate at all (every y_u = 0
 * would make the cuped blocks equal to the unadjusted ones however wrong the covariate path is): each CUPED
 * metric must have pre-exposure events in some experiment of some project.
 */
function cupedMetricsWithoutCovariates(scenario: Scenario, accepted: AcceptedEvent[]): string[] {
  const out: string[] = [];
  const ids = new Set(
    scenario.projects.flatMap((p) => p.metrics.filter((m) => m.cuped !== undefined).map((m) => m.id)),
  );
  for (const id of ids) {
    const covered = scenario.projects.some((project) => {
      const metric = project.metrics.find((m) => m.id === id);
      return (
        metric !== undefined &&
        project.experiments.some((experiment) =>
          referenceMetricStats(
            accepted,
            scenario.settings,
            project.id,
            experiment.name,
            metric,
            project.metrics,
          ).variations.some((v) => (v.covariate?.sum ?? 0) !== 0),
        )
      );
    });
    if (!covered) out.push(`CUPED metric ${id}: no unit has a pre-exposure event in the scenario`);
  }
  return out;
}

async function getJson<T>(pipeline: Pipeline, project: string, path: string): Promise<T | string> {
  const res = await fetch(`${pipeline.statsUrl}${path}`, {
    headers: { authorization: `Bearer ${pipeline.keys[project]?.read}` },
  });
  if (res.status === 404 || res.status === 503) return `stats ${res.status}: ${await res.text()}`;
  if (!res.ok) throw new Error(`stats ${res.status} for ${path}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Polls until, for every experiment of every project, the catalogue answers equal the reference and stay
 * equal: all catalogue metrics at once, the experiment's metric set (default request), the breakdown by
 * `country`, and a daily time series of two metrics. Returns what still differs, keyed by request.
 */
export async function awaitReferenceMetricResults(
  pipeline: Pipeline,
  scenario: Scenario,
  timeoutMs: number,
): Promise<Record<string, string[]>> {
  const accepted = expectedAccepted(scenario);
  const deadline = Date.now() + timeoutMs;
  const remaining: Record<string, string[]> = {};
  const uncovered = cupedMetricsWithoutCovariates(scenario, accepted);
  if (uncovered.length > 0) remaining['cuped coverage'] = uncovered;
  const nowMs = Date.now();
  for (const project of scenario.projects) {
    const catalogue = project.metrics;
    for (const experiment of project.experiments) {
      const base = {
        accepted,
        settings: scenario.settings,
        project: project.id,
        experiment: experiment.name,
        catalogue,
        control: experiment.control,
        tuning: project.metricSets[experiment.name]?.sequential_tuning_parameter,
      };
      const prefix = `/v1/experiments/${encodeURIComponent(experiment.name)}`;
      const breakdown = referenceDimensionBreakdown(
        accepted,
        scenario.settings,
        project.id,
        experiment.name,
        'country',
      );
      const multiple = breakdown.values.reduce((n, v) => n + v.multipleExposureUnits, 0);
      const checks: Record<string, () => Promise<string[]>> = {};
      const ids = catalogue.map((m) => m.id).join(',');
      checks[`metrics=${ids}`] = async () => {
        const body = await getJson<MetricResultsBody>(
          pipeline,
          project.id,
          `${prefix}/results?metrics=${ids}&control=${experiment.control}`,
        );
        if (typeof body === 'string') return [body];
        const out: string[] = [];
        groupDifferences(
          '',
          body,
          { ...expectedGroup({ ...base, metrics: catalogue }), multiple_exposure_units: multiple },
          out,
        );
        return out;
      };
      const set = project.metricSets[experiment.name];
      if (set !== undefined) {
        const setMetrics = [...new Set([...set.metrics, ...set.guardrails])].map(
          (id) => catalogue.find((m) => m.id === id) as MetricConfig,
        );
        checks['metric set'] = async () => {
          const body = await getJson<MetricResultsBody>(
            pipeline,
            project.id,
            `${prefix}/results?control=${experiment.control}`,
          );
          if (typeof body === 'string') return [body];
          const out: string[] = [];
          if (body.metrics.map((m) => m.metric).join() !== setMetrics.map((m) => m.id).join()) {
            out.push(
              `metric set: ${body.metrics.map((m) => m.metric).join()} vs ${setMetrics.map((m) => m.id).join()}`,
            );
          }
          groupDifferences(
            '',
            body,
            { ...expectedGroup({ ...base, metrics: setMetrics }), multiple_exposure_units: multiple },
            out,
          );
          return out;
        };
      }
      checks['dimension=country'] = async () => {
        const body = await getJson<MetricResultsBody>(
          pipeline,
          project.id,
          `${prefix}/results?metrics=${ids}&control=${experiment.control}&dimension=country`,
        );
        if (typeof body === 'string') return [body];
        const out: string[] = [];
        const values = body.values ?? [];
        const expectedValues = breakdown.values.map((v) => v.value).sort();
        if (
          values
            .map((v) => v.value)
            .sort()
            .join() !== expectedValues.join()
        ) {
          out.push(
            `values: ${values
              .map((v) => v.value)
              .sort()
              .join()} vs ${expectedValues.join()}`,
          );
          return out;
        }
        for (const v of breakdown.values) {
          const actual = values.find((a) => a.value === v.value) as Group;
          const expected = expectedGroup(
            { ...base, metrics: catalogue },
            { name: 'country', value: v.value },
          );
          groupDifferences(
            `[${v.value}]`,
            actual,
            { ...expected, multiple_exposure_units: v.multipleExposureUnits },
            out,
          );
        }
        return out;
      };
      for (const id of ['purchased_late', 'revenue_per_view']) {
        const metric = catalogue.find((m) => m.id === id);
        if (metric === undefined) continue;
        checks[`timeseries ${id}`] = async () => {
          const body = await getJson<TimeseriesBody>(
            pipeline,
            project.id,
            `${prefix}/results/timeseries?metric=${id}&interval=day&control=${experiment.control}`,
          );
          if (typeof body === 'string') return [body];
          const points = body.points;
          const last = points[points.length - 1];
          // The service's "now" is its own clock at the request: the reference uses the same instant.
          const now = last === undefined ? nowMs : Date.parse(last.as_of);
          const expected = referenceMetricTimeseries(
            accepted,
            scenario.settings,
            project.id,
            experiment.name,
            metric,
            catalogue,
            now,
            'day',
          );
          const out: string[] = [];
          if (
            points.map((p) => p.as_of).join() !== expected.map((p) => new Date(p.asOf).toISOString()).join()
          ) {
            out.push(
              `as_of: ${points.map((p) => p.as_of).join()} vs ${expected.map((p) => new Date(p.asOf).toISOString()).join()}`,
            );
            return out;
          }
          expected.forEach((point, i) => {
            const block = expectedBlock(metric, point.stats, experiment.control, base.tuning);
            const actual = (points[i] as TimeseriesBody['points'][number]).variations;
            const trimmed = block.variations.map(
              ({ variation, units, conversions, estimate, lift, lift_ci, p_value, sequential }) => ({
                variation,
                units,
                conversions,
                estimate,
                lift,
                lift_ci,
                p_value,
                sequential,
              }),
            );
            variationDifferences(`[${point.asOf}]`, actual, trimmed, out);
          });
          return out;
        };
      }
      // One convergence wait per experiment: every request of it must agree at once and keep agreeing.
      const all = async (): Promise<string[]> => {
        const out: string[] = [];
        for (const [what, check] of Object.entries(checks))
          out.push(...(await check()).map((d) => `${what}: ${d}`));
        return out;
      };
      const differences = await awaitConverged(all, deadline);
      if (differences.length > 0) remaining[`${project.id}/${experiment.name}`] = differences.slice(0, 30);
    }
  }
  return remaining;
}
