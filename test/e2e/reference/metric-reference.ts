/**
 * docs/semantics.md, "Second edition", in executable form: catalogue metrics (window, cap, ratio),
 * dimensions and results over time, as the independent batch truth the end-to-end tests compare the stats
 * service with. Written from the page alone, as literally as possible, one small function per rule, on
 * top of the first edition's basics in semantics-reference.ts (dedup, aliases, assignment, attribution).
 * Like that file it takes the events the gateway ACCEPTED, in acceptance order, timestamps in unix ms, and
 * re-derives everything on every call (clarity over caching).
 *
 * Choices where the page leaves room (stated so a disagreement is easy to find):
 * - as_of(T) keeps the exposures and track events with timestamp ≤ T (inclusive) and every alias (identity
 *   as known now). Deduplication by message_id is applied to the whole stream first: an event whose first
 *   copy lies after T does not count at T through a later copy.
 * - as_of(T) and multiple-exposure units: a unit that is a multiple-exposure unit NOW is left out at every
 *   T, even at a T where its exposures so far named one variation. The pipeline never publishes the events
 *   of multiple-exposure units, so no stream can know what such a unit looked like earlier; this is a
 *   stated reading, not something the page says. At T it is counted as a multiple-exposure unit (of its
 *   dimension value) once it has an exposure at or before T.
 * - The variations at T are those named by the experiment's exposures with timestamp ≤ T (the first
 *   edition's rule applied to the events of T), sorted.
 * - Percentile caps: q is computed over the analysed units (at T) of the whole experiment, all variations
 *   together, never within a dimension value; recomputed at every T.
 * - A unit's dimension value comes from its first exposure. When two exposures share the smallest timestamp
 *   the processor breaks the tie by smallest variation name, then by a deterministic order of the values;
 *   the reference takes the smallest variation, then the smallest value (code-unit order). Tests must not
 *   depend on the second tie-break: the scenario generator never makes same-timestamp first exposures
 *   with different dimension values.
 * - '(other)' pools the values beyond the 20 with most analysed units (ties by value name ascending), at
 *   the same T as the figures. Asking for a value that was pooled gives no units (its units are in
 *   '(other)'). A real value spelled '(none)' or '(other)' is not told apart from the markers.
 * - A metric's window `{ delay_hours: d, hours: h }` counts first_exposure + d ≤ t < first_exposure + d + h,
 *   hours converted to ms exactly (h · 3,600,000); a window narrows attribution, it never widens it (the
 *   decision rule still applies).
 */
import type { MetricStats, MetricVariationStats } from '../../../services/stats/src/math/metric-stats.ts';
import type { MetricConfig } from '../../../shared/projects/metric-catalog.ts';
import {
  aliasMap,
  assignExperiment,
  dedupByMessageId,
  isAttributed,
  present,
  unitOf,
  weightOf,
} from './semantics-reference.ts';
import type {
  AcceptedEvent,
  ExperimentAssignment,
  ReferenceProjectSettings,
  ReferenceSettings,
} from './semantics-reference.ts';

/** The value of a unit whose first exposure carries the dimension neither in properties nor in context. */
export const NONE_VALUE = '(none)';
/** The pooled values beyond the MAX_DIMENSION_VALUES largest. */
export const OTHER_VALUE = '(other)';
/** Values reported on their own; the rest are pooled as OTHER_VALUE. */
export const MAX_DIMENSION_VALUES = 20;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Options of referenceMetricStats. */
export interface MetricReferenceOptions {
  /** as_of(T): only exposures and track events with timestamp ≤ asOf (unix ms) count. */
  asOf?: number;
  /** Only the analysed units with this value of the dimension ('(other)': all pooled values). */
  dimension?: { name: string; value: string };
}

// ---------------------------------------------------------------------------------------------
// The events known at T and the analysed units at T
// ---------------------------------------------------------------------------------------------

/** An experiment of a project as seen at T: the events, identity and units every figure starts from. */
export interface ExperimentView {
  /** The project's deduplicated events of the whole stream (identity and multiple exposure "now"). */
  counted: AcceptedEvent[];
  /** Of those, the ones known at T: every alias, exposures and tracks with timestamp ≤ T. */
  known: AcceptedEvent[];
  aliases: Map<string, string>;
  experiment: string;
  mode: ReferenceProjectSettings['attribution'];
  /** Analysed units at T (multiple-exposure units of now removed), variations named by then. */
  assignment: ExperimentAssignment;
  /** Units that are multiple-exposure units now and have an exposure at or before T. */
  multipleExposure: Set<string>;
}

/**
 * as_of(T) on events: every alias (identity as known now), and exposures and track events with
 * timestamp ≤ T. Without T, all events.
 */
export function eventsAsOf(counted: readonly AcceptedEvent[], asOf: number | undefined): AcceptedEvent[] {
  if (asOf === undefined) return [...counted];
  return counted.filter((e) => e.kind === 'alias' || e.timestamp <= asOf);
}

/** The units exposed to two or more variations of `experiment` over `events`. */
export function multipleExposureUnitsOf(
  events: readonly AcceptedEvent[],
  aliases: ReadonlyMap<string, string>,
  experiment: string,
): Set<string> {
  const variationsOf = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.kind !== 'exposure' || e.experiment !== experiment || !present(e.variation)) continue;
    const unit = unitOf(e, aliases);
    if (unit === null) continue;
    let seen = variationsOf.get(unit);
    if (seen === undefined) variationsOf.set(unit, (seen = new Set()));
    seen.add(e.variation);
  }
  return new Set([...variationsOf].filter(([, v]) => v.size >= 2).map(([unit]) => unit));
}

/** The experiment as of T (or now): see ExperimentView and the module comment on multiple exposure. */
export function experimentView(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  asOf?: number,
): ExperimentView {
  const counted = dedupByMessageId(events, project);
  const aliases = aliasMap(counted);
  const known = eventsAsOf(counted, asOf);
  const multipleNow = multipleExposureUnitsOf(counted, aliases, experiment);
  const atT = assignExperiment(known, aliases, experiment);
  const analysed = new Map([...atT.analysed].filter(([unit]) => !multipleNow.has(unit)));
  const exposedByT = exposuresByUnit(known, aliases, experiment);
  const multipleExposure = new Set([...multipleNow].filter((unit) => exposedByT.has(unit)));
  return {
    counted,
    known,
    aliases,
    experiment,
    mode: settings[project]?.attribution ?? 'cumulative',
    assignment: { analysed, variations: atT.variations, multipleExposureUnits: multipleExposure.size },
    multipleExposure,
  };
}

/** Each unit's exposures to `experiment` among `events`. */
export function exposuresByUnit(
  events: readonly AcceptedEvent[],
  aliases: ReadonlyMap<string, string>,
  experiment: string,
): Map<string, AcceptedEvent[]> {
  const byUnit = new Map<string, AcceptedEvent[]>();
  for (const e of events) {
    if (e.kind !== 'exposure' || e.experiment !== experiment || !present(e.variation)) continue;
    const unit = unitOf(e, aliases);
    if (unit === null) continue;
    let list = byUnit.get(unit);
    if (list === undefined) byUnit.set(unit, (list = []));
    list.push(e);
  }
  return byUnit;
}

/** The smallest timestamp among the experiment's (deduplicated) exposures of any unit; null when none. */
export function experimentFirstExposure(
  events: readonly AcceptedEvent[],
  project: string,
  experiment: string,
): number | null {
  let first: number | null = null;
  for (const e of dedupByMessageId(events, project)) {
    if (e.kind !== 'exposure' || e.experiment !== experiment || !present(e.variation)) continue;
    if (first === null || e.timestamp < first) first = e.timestamp;
  }
  return first;
}

// ---------------------------------------------------------------------------------------------
// Per-unit values of a metric
// ---------------------------------------------------------------------------------------------

/** first_exposure + d ≤ t < first_exposure + d + h, d and h in hours; no window: always (t ≥ first exposure is isAttributed's). */
export function isInWindow(t: number, firstExposure: number, window: MetricConfig['window']): boolean {
  if (window === undefined) return true;
  const start = firstExposure + (window.delay_hours ?? 0) * HOUR_MS;
  return start <= t && t < start + window.hours * HOUR_MS;
}

/** c_u and the uncapped v_u of a unit for one conversion, mean or count metric. */
export interface UnitMetricValue {
  conversion: 0 | 1;
  /** c_u for a conversion, x_u = Σ w·value for a mean, k_u = Σ w for a count (before any cap). */
  value: number;
}

/**
 * v_u (uncapped) and c_u of every analysed unit at T for a conversion, mean or count metric, over the
 * unit's attributed events named `metric.event` inside the metric's window. Units without one are zeros.
 */
export function unitMetricValues(view: ExperimentView, metric: MetricConfig): Map<string, UnitMetricValue> {
  if (metric.type === 'ratio' || !present(metric.event)) {
    throw new Error(`metric "${metric.id}" is a ${metric.type} without an event: not a per-unit metric`);
  }
  const perUnit = new Map<string, UnitMetricValue>();
  for (const unit of view.assignment.analysed.keys()) perUnit.set(unit, { conversion: 0, value: 0 });
  for (const t of view.known) {
    if (t.kind !== 'track' || t.event !== metric.event) continue;
    const unit = unitOf(t, view.aliases);
    const assignment = unit === null ? undefined : view.assignment.analysed.get(unit);
    if (unit === null || assignment === undefined) continue;
    if (!isAttributed(t, assignment, view.mode)) continue;
    if (!isInWindow(t.timestamp, assignment.firstExposure, metric.window)) continue;
    const m = perUnit.get(unit) as UnitMetricValue;
    m.conversion = 1;
    if (metric.type === 'mean') m.value += weightOf(t) * (t.value ?? 0);
    if (metric.type === 'count') m.value += weightOf(t);
  }
  if (metric.type === 'conversion') for (const m of perUnit.values()) m.value = m.conversion;
  return perUnit;
}

/**
 * CUPED (semantics.md, "Variance reduction"): the covariate y_u of every analysed unit at T for a mean or
 * count metric with `cuped: { days: P }`: the same amount (Σ w·value, or Σ w) over the unit's track events
 * named `metric.event` with first_exposure − P days ≤ t < first_exposure, 0 if none. Such events are never
 * attributed, so neither the attribution mode nor the window applies; the cap is defined on x_u and is not
 * applied to y_u (a stated reading).
 */
export function unitCovariateValues(view: ExperimentView, metric: MetricConfig): Map<string, number> {
  if (
    metric.cuped === undefined ||
    (metric.type !== 'mean' && metric.type !== 'count') ||
    !present(metric.event)
  ) {
    throw new Error(`metric "${metric.id}" has no CUPED covariate`);
  }
  const lookback = metric.cuped.days * DAY_MS;
  const perUnit = new Map<string, number>();
  for (const unit of view.assignment.analysed.keys()) perUnit.set(unit, 0);
  for (const t of view.known) {
    if (t.kind !== 'track' || t.event !== metric.event) continue;
    const unit = unitOf(t, view.aliases);
    const assignment = unit === null ? undefined : view.assignment.analysed.get(unit);
    if (unit === null || assignment === undefined) continue;
    const first = assignment.firstExposure;
    if (!(first - lookback <= t.timestamp && t.timestamp < first)) continue;
    const amount = metric.type === 'mean' ? weightOf(t) * (t.value ?? 0) : weightOf(t);
    perUnit.set(unit, (perUnit.get(unit) as number) + amount);
  }
  return perUnit;
}

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

/**
 * numpy.quantile(values, p) with numpy's default method ('linear', Hyndman & Fan 7): virtual index
 * (n − 1)·p, and numpy's _lerp, which interpolates from the upper neighbour when the fraction is ≥ 0.5, so
 * that the result matches numpy to the last bit. `values` need not be sorted; it must not be empty.
 */
export function linearQuantile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const virtual = (n - 1) * p;
  if (virtual >= n - 1) return sorted[n - 1] as number;
  if (virtual < 0) return sorted[0] as number;
  const below = Math.floor(virtual);
  const a = sorted[below] as number;
  const b = sorted[below + 1] as number;
  const t = virtual - below;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The cap of a metric at T: `absolute` a as it is; `percentile` p: q = the p-quantile of the uncapped
 * v_u over the experiment's analysed units with v_u > 0 (all variations; never within a dimension
 * value), null when no unit has a positive value. Null without a cap and for a conversion (c_u is never
 * capped).
 */
export function capValueOf(metric: MetricConfig, uncapped: Iterable<number>): number | null {
  if (metric.cap === undefined || metric.type === 'conversion') return null;
  if ('absolute' in metric.cap) return metric.cap.absolute;
  const positive = [...uncapped].filter((v) => v > 0);
  return positive.length === 0 ? null : linearQuantile(positive, metric.cap.percentile);
}

/** min(v_u, cap); v_u itself when there is no cap. */
export function capped(value: number, cap: number | null): number {
  return cap === null ? value : Math.min(value, cap);
}

// ---------------------------------------------------------------------------------------------
// Dimensions
// ---------------------------------------------------------------------------------------------

/** A dimension value as a string: strings as they are, numbers by String(n), booleans 'true' / 'false'. */
export function dimensionString(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value);
}

/** An exposure's value of dimension `name`: properties[name], else context[name], else '(none)'. */
export function exposureDimensionValue(exposure: AcceptedEvent, name: string): string {
  const fromProperties = exposure.properties?.[name];
  if (fromProperties !== undefined && fromProperties !== null) return dimensionString(fromProperties);
  const fromContext = exposure.context?.[name];
  if (fromContext !== undefined && fromContext !== null) return fromContext;
  return NONE_VALUE;
}

/**
 * A unit's value of dimension `name`: that of its first exposure (smallest timestamp; ties by smallest
 * variation name, then smallest value; see the module comment).
 */
export function unitDimensionValue(exposures: readonly AcceptedEvent[], name: string): string {
  const first = Math.min(...exposures.map((e) => e.timestamp));
  const tied = exposures.filter((e) => e.timestamp === first);
  const variation = tied.map((e) => e.variation as string).sort()[0];
  const values = tied.filter((e) => e.variation === variation).map((e) => exposureDimensionValue(e, name));
  return values.sort()[0] as string;
}

/** One value of a dimension breakdown (or '(other)'): the units per variation and excluded units. */
export interface DimensionValueUnits {
  value: string;
  /** Analysed units of all variations with this value. */
  units: number;
  /** Every variation of the experiment (at T), sorted, 0 units included. */
  variations: { variation: string; units: number }[];
  multipleExposureUnits: number;
}

/** The values of one dimension of an experiment, and which reported value each unit falls in. */
export interface ReferenceDimensionBreakdown {
  dimension: string;
  /** Sorted by units descending, then value ascending; '(other)' only when more than 20 values. */
  values: DimensionValueUnits[];
  /** Every unit (analysed or multiple-exposure) → its reported value ('(other)' for a pooled value). */
  bucketOfUnit: Map<string, string>;
}

/**
 * The values to report on their own: the 20 with most analysed units (ties by value ascending); a
 * value beyond them is pooled as '(other)'.
 */
export function reportedValues(unitsPerValue: ReadonlyMap<string, number>): Set<string> {
  const ranked = [...unitsPerValue].sort(([va, a], [vb, b]) => b - a || compareStrings(va, vb));
  return new Set(ranked.slice(0, MAX_DIMENSION_VALUES).map(([value]) => value));
}

/** The breakdown of an experiment's units by dimension `name` in a view (as of its T). */
export function breakdownOfView(view: ExperimentView, name: string): ReferenceDimensionBreakdown {
  const exposures = exposuresByUnit(view.known, view.aliases, view.experiment);
  const valueOfUnit = new Map<string, string>();
  for (const unit of [...view.assignment.analysed.keys(), ...view.multipleExposure]) {
    valueOfUnit.set(unit, unitDimensionValue(exposures.get(unit) as AcceptedEvent[], name));
  }
  const unitsPerValue = new Map<string, number>();
  for (const [unit, value] of valueOfUnit) {
    const analysed = view.assignment.analysed.has(unit) ? 1 : 0;
    unitsPerValue.set(value, (unitsPerValue.get(value) ?? 0) + analysed);
  }
  const kept = reportedValues(unitsPerValue);
  const bucketOfUnit = new Map(
    [...valueOfUnit].map(([unit, value]) => [unit, kept.has(value) ? value : OTHER_VALUE] as const),
  );

  const byBucket = new Map<string, DimensionValueUnits>();
  const entry = (value: string): DimensionValueUnits => {
    let found = byBucket.get(value);
    if (found === undefined) {
      found = {
        value,
        units: 0,
        variations: view.assignment.variations.map((variation) => ({ variation, units: 0 })),
        multipleExposureUnits: 0,
      };
      byBucket.set(value, found);
    }
    return found;
  };
  for (const [unit, bucket] of bucketOfUnit) {
    const e = entry(bucket);
    const assignment = view.assignment.analysed.get(unit);
    if (assignment === undefined) {
      e.multipleExposureUnits += 1;
      continue;
    }
    e.units += 1;
    (e.variations.find((v) => v.variation === assignment.variation) as { units: number }).units += 1;
  }
  const values = [...byBucket.values()].sort((a, b) => b.units - a.units || compareStrings(a.value, b.value));
  return { dimension: name, values, bucketOfUnit };
}

/**
 * Results by dimension, the units part: per value of `dimension` the analysed units per variation and
 * the multiple-exposure units, the 20 values with most units kept and the rest pooled as '(other)'.
 */
export function referenceDimensionBreakdown(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  dimension: string,
  options: { asOf?: number } = {},
): ReferenceDimensionBreakdown {
  return breakdownOfView(experimentView(events, settings, project, experiment, options.asOf), dimension);
}

// ---------------------------------------------------------------------------------------------
// Metric statistics
// ---------------------------------------------------------------------------------------------

/** v_u (capped) and c_u of every analysed unit for a conversion, mean or count metric, and the cap used. */
export interface CappedValues {
  perUnit: Map<string, UnitMetricValue>;
  cap: number | null;
}

/** The per-unit values of a metric after its cap (computed over all analysed units of the view). */
export function cappedUnitValues(view: ExperimentView, metric: MetricConfig): CappedValues {
  const uncapped = unitMetricValues(view, metric);
  const cap = capValueOf(
    metric,
    [...uncapped.values()].map((m) => m.value),
  );
  const perUnit = new Map(
    [...uncapped].map(
      ([unit, m]) => [unit, { conversion: m.conversion, value: capped(m.value, cap) }] as const,
    ),
  );
  return { perUnit, cap };
}

/** A ratio's numerator or denominator metric from the catalogue: a mean or count metric. */
export function ratioOperand(
  ratio: MetricConfig,
  field: 'numerator' | 'denominator',
  catalogue: readonly MetricConfig[],
): MetricConfig {
  const id = ratio[field];
  const operand = catalogue.find((m) => m.id === id);
  if (operand === undefined || (operand.type !== 'mean' && operand.type !== 'count')) {
    throw new Error(
      `ratio "${ratio.id}": its ${field} "${String(id)}" is not a mean or count metric of the catalogue`,
    );
  }
  return operand;
}

/**
 * Per-variation sufficient statistics (services/stats/src/math/metric-stats.ts) of catalogue metric
 * `metric` in `experiment` of `project`: v_u per analysed unit (with window and cap), d_u too for a
 * ratio (numerator and denominator from `catalogue`, each with its own window and cap; `conversions`
 * counts the units with a counted numerator event), and the CUPED covariate sums (Σ y, Σ y², Σ v·y) for a
 * metric with `cuped`. Options: as_of(T), and one dimension value.
 */
export function referenceMetricStats(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  metric: MetricConfig,
  catalogue: readonly MetricConfig[],
  options: MetricReferenceOptions = {},
): MetricStats {
  const view = experimentView(events, settings, project, experiment, options.asOf);
  const selected = selectedUnits(view, options.dimension);
  const numerator = cappedUnitValues(
    view,
    metric.type === 'ratio' ? ratioOperand(metric, 'numerator', catalogue) : metric,
  );
  const denominator =
    metric.type === 'ratio' ? cappedUnitValues(view, ratioOperand(metric, 'denominator', catalogue)) : null;
  const covariate =
    metric.cuped !== undefined && metric.type !== 'ratio' ? unitCovariateValues(view, metric) : null;

  const variations: MetricVariationStats[] = view.assignment.variations.map((variation) => ({
    variation,
    units: 0,
    conversions: 0,
    sum: 0,
    sumSq: 0,
    denominatorSum: 0,
    denominatorSumSq: 0,
    crossSum: 0,
    ...(covariate === null ? {} : { covariate: { sum: 0, sumSq: 0, crossSum: 0 } }),
  }));
  const byName = new Map(variations.map((v) => [v.variation, v]));
  for (const [unit, assignment] of view.assignment.analysed) {
    if (!selected(unit)) continue;
    const stats = byName.get(assignment.variation) as MetricVariationStats;
    const v = numerator.perUnit.get(unit) as UnitMetricValue;
    stats.units += 1;
    stats.conversions += v.conversion;
    stats.sum += v.value;
    stats.sumSq += v.value * v.value;
    if (covariate !== null && stats.covariate !== undefined) {
      const y = covariate.get(unit) as number;
      stats.covariate.sum += y;
      stats.covariate.sumSq += y * y;
      stats.covariate.crossSum += v.value * y;
    }
    if (denominator === null) continue;
    const d = (denominator.perUnit.get(unit) as UnitMetricValue).value;
    stats.denominatorSum += d;
    stats.denominatorSumSq += d * d;
    stats.crossSum += v.value * d;
  }
  return { variations, capValue: numerator.cap, denominatorCapValue: denominator?.cap ?? null };
}

/** Whether a unit is in the requested dimension value (every unit without the option). */
function selectedUnits(
  view: ExperimentView,
  dimension: MetricReferenceOptions['dimension'],
): (unit: string) => boolean {
  if (dimension === undefined) return () => true;
  const { bucketOfUnit } = breakdownOfView(view, dimension.name);
  return (unit) => bucketOfUnit.get(unit) === dimension.value;
}

// ---------------------------------------------------------------------------------------------
// Results over time
// ---------------------------------------------------------------------------------------------

/**
 * The as_of points of a time series: each UTC hour or day boundary strictly after the experiment's first
 * exposure and at or before now, then now itself (once, when now is itself a boundary).
 */
export function timeseriesBoundaries(
  firstExposureMs: number,
  nowMs: number,
  interval: 'hour' | 'day',
): number[] {
  const step = interval === 'hour' ? HOUR_MS : DAY_MS;
  const points: number[] = [];
  for (let at = Math.floor(firstExposureMs / step) * step + step; at <= nowMs; at += step) points.push(at);
  if (points[points.length - 1] !== nowMs) points.push(nowMs);
  return points;
}

/** One point of a metric's time series. */
export interface MetricTimeseriesPoint {
  asOf: number;
  stats: MetricStats;
}

/**
 * referenceMetricStats as_of each point of timeseriesBoundaries (from the experiment's first exposure to
 * now, plus now); empty when the experiment has no exposure.
 */
export function referenceMetricTimeseries(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  metric: MetricConfig,
  catalogue: readonly MetricConfig[],
  nowMs: number,
  interval: 'hour' | 'day',
  dimension?: { name: string; value: string },
): MetricTimeseriesPoint[] {
  const first = experimentFirstExposure(events, project, experiment);
  if (first === null) return [];
  return timeseriesBoundaries(first, nowMs, interval).map((asOf) => ({
    asOf,
    stats: referenceMetricStats(events, settings, project, experiment, metric, catalogue, {
      asOf,
      ...(dimension === undefined ? {} : { dimension }),
    }),
  }));
}

/** Code-unit order, the same on every platform (localeCompare is not). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
