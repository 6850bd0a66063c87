/**
 * shared/brief/semantics.md in executable form: the independent truth the end-to-end tests compare
 * the stats service with. Written from the page alone, without reading the processor's code, and as
 * literally as possible: every rule below is one small function named after the rule. It works on the
 * events the gateway ACCEPTED (validation, bots and e-mail addresses are the gateway's business), in
 * acceptance order, with timestamps already resolved to unix ms.
 *
 * Speed: each call re-derives everything from the event list in a few linear passes with maps, so
 * about 50k events take tens of milliseconds; clarity was preferred to caching.
 *
 * Choices where the page leaves room (stated so a disagreement is easy to find):
 * - `canonical` follows aliases until an id that is not aliased (x → u, u → v: x, u and v are v), as
 *   the second edition's "Identity: chains and cycles" says; the first alias accepted for an anonymous id
 *   is its only link. It applies to user ids too (a user id aliased as an anonymous id is followed).
 * - An alias cycle (x → u, u → x) has no canonical end and the page leaves the unit unspecified: the
 *   reference ends the walk when it meets an id again and names the whole cycle (and every id leading into
 *   it) after the smallest id of the cycle, so each event still lands in exactly one unit. Tests must not
 *   depend on that name; the scenario generator never makes cycles.
 * - An exposure or track carrying both ids belongs to canonical(user_id); it does NOT create an alias.
 * - The variations of an experiment are all variations named by its (deduplicated) exposures,
 *   including those whose only units were multiple-exposure units (reported with 0 units).
 * - `sumWeight` counts every attributed metric event, with or without a value, so `mean_value` is
 *   Σ w·value / Σ w with an absent value adding 0 to the numerator (the page's "absent value adds 0").
 */
import { computeResults } from '../../../services/stats/src/math/experiment-results.ts';
import type { ResultsOutcome, VariationStats } from '../../../services/stats/src/math/types.ts';

/** One event as the gateway accepted it. Null and absent mean the same, as at the gateway. */
export interface AcceptedEvent {
  project: string;
  kind: 'exposure' | 'track' | 'alias';
  /** Event time in unix ms, resolved by the gateway (the receive time when the producer sent none). */
  timestamp: number;
  message_id?: string | null;
  user_id?: string | null;
  anonymous_id?: string | null;
  experiment?: string | null;
  variation?: string | null;
  decision_id?: string | null;
  event?: string | null;
  value?: number | null;
  /** Producer's sampling rate in [0.01, 1]; absent means 1. */
  sample?: number | null;
  /** Flat properties (track events; exposures too since the second edition, for dimensions). */
  properties?: Record<string, string | number | boolean> | null;
  /** The flat string context every kind may carry (user_agent, locale, platform, ...). */
  context?: Record<string, string> | null;
}

/** Per-project settings that change the numbers (the analysis part of the project catalog). */
export interface ReferenceProjectSettings {
  attribution: 'cumulative' | 'decision';
  /** SRM weights as in the project catalog: experiment → variation → positive weight. */
  expectedSplit?: Record<string, Record<string, number>>;
}

/** Settings keyed by project id; a project without an entry uses cumulative attribution. */
export type ReferenceSettings = Readonly<Record<string, ReferenceProjectSettings>>;

/** Sufficient statistics of one metric of one experiment, per variation, plus the excluded units. */
export interface ReferenceExperimentStats {
  /** One entry per variation of the experiment, sorted by name. */
  variations: VariationStats[];
  /** Units exposed to two or more variations of the experiment: left out of `variations`. */
  multipleExposureUnits: number;
}

/** An experiment of a project as the reference sees it. */
export interface ReferenceExperiment {
  project: string;
  experiment: string;
  /** Analysed units per variation, sorted by variation name. */
  variations: { variation: string; units: number }[];
  multipleExposureUnits: number;
}

// ---------------------------------------------------------------------------------------------
// Events and identity
// ---------------------------------------------------------------------------------------------

/**
 * The events of `project` that count: two accepted events of a project with the same message_id
 * count once, and the first accepted wins. Events without a message_id always count.
 */
export function dedupByMessageId(events: readonly AcceptedEvent[], project: string): AcceptedEvent[] {
  const seen = new Set<string>();
  const kept: AcceptedEvent[] = [];
  for (const e of events) {
    if (e.project !== project) continue;
    if (present(e.message_id)) {
      if (seen.has(e.message_id)) continue;
      seen.add(e.message_id);
    }
    kept.push(e);
  }
  return kept;
}

/** anonymous_id → user_id from the alias events; the first alias accepted for an anonymous id wins. */
export function aliasMap(events: readonly AcceptedEvent[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of events) {
    if (e.kind !== 'alias' || !present(e.anonymous_id) || !present(e.user_id)) continue;
    if (!map.has(e.anonymous_id)) map.set(e.anonymous_id, e.user_id);
  }
  return map;
}

/**
 * canonical(x): follow the aliases from x until an id that is not aliased. In a cycle (no such id) the
 * walk stops at the first repeated id and answers the smallest id of the cycle, whichever id of the
 * cycle (or leading into it) it started from: a stated choice, see the module comment.
 */
export function canonical(aliases: ReadonlyMap<string, string>, id: string): string {
  if (!aliases.has(id)) return id;
  const visited = new Set<string>();
  let current = id;
  for (;;) {
    const next = aliases.get(current);
    if (next === undefined) return current;
    visited.add(current);
    if (visited.has(next)) return smallestOfCycle(aliases, next);
    current = next;
  }
}

/** The smallest id (code-unit order) of the alias cycle through `start`. */
function smallestOfCycle(aliases: ReadonlyMap<string, string>, start: string): string {
  let smallest = start;
  for (let id = aliases.get(start) as string; id !== start; id = aliases.get(id) as string) {
    if (id < smallest) smallest = id;
  }
  return smallest;
}

/**
 * The unit (canonical identity) of an exposure or track: canonical(user_id) when it has a user_id,
 * else canonical(anonymous_id). Null for aliases and for events with no id.
 */
export function unitOf(event: AcceptedEvent, aliases: ReadonlyMap<string, string>): string | null {
  if (event.kind === 'alias') return null;
  if (present(event.user_id)) return canonical(aliases, event.user_id);
  if (present(event.anonymous_id)) return canonical(aliases, event.anonymous_id);
  return null;
}

/** Weight of a track event: w = 1/sample, sample defaulting to 1. */
export function weightOf(event: AcceptedEvent): number {
  return 1 / (event.sample ?? 1);
}

// ---------------------------------------------------------------------------------------------
// Exposure and assignment
// ---------------------------------------------------------------------------------------------

/** What the reference knows about one analysed unit of an experiment. */
export interface UnitAssignment {
  variation: string;
  /** first_exposure(u, E): the smallest timestamp among u's exposures to E, unix ms. */
  firstExposure: number;
  /** decision_ids carried by u's exposures to E (for decision attribution). */
  decisionIds: Set<string>;
}

/** Analysed units of an experiment, its variations, and the multiple-exposure units left out. */
export interface ExperimentAssignment {
  analysed: Map<string, UnitAssignment>;
  /** Every variation named by an exposure of the experiment, sorted. */
  variations: string[];
  multipleExposureUnits: number;
}

/**
 * Assignment of units to the variations of `experiment`, from the deduplicated events of one
 * project. A unit exposed to two or more different variations is a multiple-exposure unit (not
 * analysed, counted); the others take the variation of their first exposure (they only have one).
 */
export function assignExperiment(
  events: readonly AcceptedEvent[],
  aliases: ReadonlyMap<string, string>,
  experiment: string,
): ExperimentAssignment {
  const byUnit = new Map<string, { variations: Set<string>; first: number; decisionIds: Set<string> }>();
  const variations = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'exposure' || e.experiment !== experiment || !present(e.variation)) continue;
    const unit = unitOf(e, aliases);
    if (unit === null) continue;
    variations.add(e.variation);
    let seen = byUnit.get(unit);
    if (seen === undefined) {
      seen = { variations: new Set(), first: e.timestamp, decisionIds: new Set() };
      byUnit.set(unit, seen);
    }
    seen.variations.add(e.variation);
    seen.first = Math.min(seen.first, e.timestamp);
    if (present(e.decision_id)) seen.decisionIds.add(e.decision_id);
  }

  const analysed = new Map<string, UnitAssignment>();
  let multipleExposureUnits = 0;
  for (const [unit, seen] of byUnit) {
    if (seen.variations.size >= 2) {
      multipleExposureUnits++;
      continue;
    }
    const [variation] = [...seen.variations] as [string];
    analysed.set(unit, { variation, firstExposure: seen.first, decisionIds: seen.decisionIds });
  }
  return { analysed, variations: [...variations].sort(), multipleExposureUnits };
}

// ---------------------------------------------------------------------------------------------
// Attribution
// ---------------------------------------------------------------------------------------------

/**
 * Whether track event `t` of an analysed unit counts for the experiment the unit is assigned in:
 * never before first exposure; in decision mode, a track with a decision_id also needs an exposure
 * of the unit to this experiment carrying the same decision_id (without one: the cumulative rule).
 */
export function isAttributed(
  t: AcceptedEvent,
  assignment: UnitAssignment,
  mode: ReferenceProjectSettings['attribution'],
): boolean {
  if (t.timestamp < assignment.firstExposure) return false;
  if (mode === 'decision' && present(t.decision_id)) return assignment.decisionIds.has(t.decision_id);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Metrics and results
// ---------------------------------------------------------------------------------------------

/** c_u, k_u, x_u of one unit for one metric. */
export interface UnitMetric {
  conversion: 0 | 1;
  count: number;
  value: number;
}

/**
 * Per-variation sufficient statistics of metric event `metric` in `experiment` of `project`.
 * Analysed units with no attributed event count as zeros.
 */
export function referenceSufficientStats(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  metric: string,
): ReferenceExperimentStats {
  const mode = settings[project]?.attribution ?? 'cumulative';
  const counted = dedupByMessageId(events, project);
  const aliases = aliasMap(counted);
  const assignment = assignExperiment(counted, aliases, experiment);

  const perUnit = new Map<string, UnitMetric>();
  const perVariationEvents = new Map<string, { sumWeight: number; sumWeightedValue: number }>();
  for (const v of assignment.variations) perVariationEvents.set(v, { sumWeight: 0, sumWeightedValue: 0 });
  for (const unit of assignment.analysed.keys()) perUnit.set(unit, { conversion: 0, count: 0, value: 0 });

  for (const t of counted) {
    if (t.kind !== 'track' || t.event !== metric) continue;
    const unit = unitOf(t, aliases);
    const unitAssignment = unit === null ? undefined : assignment.analysed.get(unit);
    if (unit === null || unitAssignment === undefined) continue;
    if (!isAttributed(t, unitAssignment, mode)) continue;
    const w = weightOf(t);
    const weightedValue = w * (t.value ?? 0);
    const m = perUnit.get(unit) as UnitMetric;
    m.conversion = 1;
    m.count += w;
    m.value += weightedValue;
    const sums = perVariationEvents.get(unitAssignment.variation) as {
      sumWeight: number;
      sumWeightedValue: number;
    };
    sums.sumWeight += w;
    sums.sumWeightedValue += weightedValue;
  }

  const variations: VariationStats[] = assignment.variations.map((variation) => ({
    variation,
    units: 0,
    conversions: 0,
    sumValue: 0,
    sumValueSq: 0,
    sumCount: 0,
    sumCountSq: 0,
    sumWeight: perVariationEvents.get(variation)?.sumWeight ?? 0,
    sumWeightedValue: perVariationEvents.get(variation)?.sumWeightedValue ?? 0,
  }));
  const byName = new Map(variations.map((v) => [v.variation, v]));
  for (const [unit, a] of assignment.analysed) {
    const stats = byName.get(a.variation) as VariationStats;
    const m = perUnit.get(unit) as UnitMetric;
    stats.units += 1;
    stats.conversions += m.conversion;
    stats.sumValue += m.value;
    stats.sumValueSq += m.value * m.value;
    stats.sumCount += m.count;
    stats.sumCountSq += m.count * m.count;
  }
  return { variations, multipleExposureUnits: assignment.multipleExposureUnits };
}

/** Options of `referenceResults`, as the stats request gives them. */
export interface ReferenceResultsOptions {
  /** The control variation (named in the request, or `control`). */
  control: string;
  /** Two-sided confidence of lift_ci; computeResults' default when omitted. */
  confidence?: number;
}

/**
 * The results the stats service must return for `metric` in `experiment` of `project`: the reference
 * sufficient statistics through the verified statistics layer, with the project's expected split.
 */
export function referenceResults(
  events: readonly AcceptedEvent[],
  settings: ReferenceSettings,
  project: string,
  experiment: string,
  metric: string,
  options: ReferenceResultsOptions,
): ResultsOutcome {
  const { variations } = referenceSufficientStats(events, settings, project, experiment, metric);
  const expectedWeights = settings[project]?.expectedSplit?.[experiment];
  return computeResults({
    variations,
    control: options.control,
    ...(options.confidence === undefined ? {} : { confidence: options.confidence }),
    ...(expectedWeights === undefined ? {} : { expectedWeights }),
  });
}

/** Every experiment of every project with its variations and analysed units, sorted by project, experiment. */
export function referenceExperiments(
  events: readonly AcceptedEvent[],
  _settings: ReferenceSettings = {},
): ReferenceExperiment[] {
  // Settings are taken for symmetry with the other entry points; assignment does not depend on them.
  const projects = [...new Set(events.map((e) => e.project))].sort();
  const out: ReferenceExperiment[] = [];
  for (const project of projects) {
    const counted = dedupByMessageId(events, project);
    const aliases = aliasMap(counted);
    const experiments = new Set<string>();
    for (const e of counted)
      if (e.kind === 'exposure' && present(e.experiment)) experiments.add(e.experiment);
    for (const experiment of [...experiments].sort()) {
      const a = assignExperiment(counted, aliases, experiment);
      const units = new Map(a.variations.map((v) => [v, 0]));
      for (const { variation } of a.analysed.values()) units.set(variation, (units.get(variation) ?? 0) + 1);
      out.push({
        project,
        experiment,
        variations: a.variations.map((variation) => ({ variation, units: units.get(variation) ?? 0 })),
        multipleExposureUnits: a.multipleExposureUnits,
      });
    }
  }
  return out;
}

/** Whether an optional id or name was sent: null and absent mean the same. */
export function present(value: string | null | undefined): value is string {
  return value !== undefined && value !== null;
}
