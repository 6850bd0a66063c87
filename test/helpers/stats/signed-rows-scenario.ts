/**
 * Scenarios at the level of the processor's output: each unit's final truth (assignment and attributed
 * events), and the signed changelog a processor could have written to reach it, with detours that are
 * later retracted (an assignment that changed, a unit that became multiple-exposure, events that were
 * attributed and withdrawn). The stats tests store the changelog in ClickHouse and compare the API with
 * `expectedStats`, which reads the truth only, never the rows.
 */
import type { VariationStats } from '../../../services/stats/src/math/types.ts';

export interface TruthEvent {
  eventId: string;
  event: string;
  /** Unix ms, at or after the unit's first exposure. */
  timestamp: number;
  weight: number;
  value: number | null;
}

export interface TruthUnit {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  firstExposureAt: number;
  multipleExposure: boolean;
  /** Attributed events (empty for a multiple-exposure unit). */
  events: TruthEvent[];
}

export interface ExposureRecord {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  first_exposure_at: number;
  multiple_exposure: boolean;
  sign: 1 | -1;
}

export interface AttributedRecord {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  event_id: string;
  event: string;
  timestamp: number;
  weight: number;
  value: number | null;
  sign: 1 | -1;
}

export interface Changelog {
  exposures: ExposureRecord[];
  attributed: AttributedRecord[];
}

/** Mulberry32: small, seeded, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScenarioOptions {
  project: string;
  experiment: string;
  arms: readonly string[];
  units: number;
  /** Metric names events are drawn from. */
  events: readonly string[];
  /** Start of exposures, unix ms. */
  start: number;
  seed: number;
  /** Per arm probability that a unit converts at all (default 0.4). */
  conversion?: Readonly<Record<string, number>>;
  /** Share of units that end multiple-exposure (default 0.05). */
  multipleShare?: number;
}

/** Units of one experiment, their truth, with sampling weights, null values and ties in time. */
export function generateUnits(options: ScenarioOptions): TruthUnit[] {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const units: TruthUnit[] = [];
  for (let i = 0; i < options.units; i++) {
    const variation = pick(options.arms);
    const firstExposureAt = options.start + Math.floor(random() * 86_400_000);
    const multipleExposure = random() < (options.multipleShare ?? 0.05);
    const events: TruthEvent[] = [];
    if (!multipleExposure && random() < (options.conversion?.[variation] ?? 0.4)) {
      const count = 1 + Math.floor(random() * random() * 6);
      for (let j = 0; j < count; j++) {
        const sample = pick([1, 1, 1, 0.5, 0.25, 0.1]);
        events.push({
          eventId: `${options.experiment}-${i}-${j}`,
          event: pick(options.events),
          timestamp: firstExposureAt + Math.floor(random() * 3 * 86_400_000),
          weight: 1 / sample,
          value: random() < 0.2 ? null : Math.round(random() * 20_000) / 100,
        });
      }
    }
    units.push({
      project: options.project,
      experiment: options.experiment,
      unit: `${options.experiment}-u${i}`,
      variation,
      firstExposureAt,
      multipleExposure,
      events,
    });
  }
  return units;
}

/**
 * A changelog whose signed sums are exactly the truth, with detours: some units first asserted in
 * another arm with a later first exposure and events there (all retracted), multiple-exposure units
 * first asserted as analysed with events (retracted), and withdrawn events (asserted, then retracted).
 */
export function changelogOf(units: readonly TruthUnit[], seed: number, arms: readonly string[]): Changelog {
  const random = seededRandom(seed);
  const exposures: ExposureRecord[] = [];
  const attributed: AttributedRecord[] = [];
  const exposure = (u: TruthUnit, variation: string, at: number, multiple: boolean, sign: 1 | -1) =>
    exposures.push({
      project: u.project,
      experiment: u.experiment,
      unit: u.unit,
      variation,
      first_exposure_at: at,
      multiple_exposure: multiple,
      sign,
    });
  const track = (u: TruthUnit, variation: string, e: TruthEvent, sign: 1 | -1) =>
    attributed.push({
      project: u.project,
      experiment: u.experiment,
      unit: u.unit,
      variation,
      event_id: e.eventId,
      event: e.event,
      timestamp: e.timestamp,
      weight: e.weight,
      value: e.value,
      sign,
    });
  for (const u of units) {
    if (u.multipleExposure) {
      // Analysed at first, with an event; then a conflicting exposure made it multiple.
      const early: TruthEvent = {
        eventId: `${u.unit}-early`,
        event: 'purchase',
        timestamp: u.firstExposureAt + 1,
        weight: 1,
        value: 5,
      };
      exposure(u, u.variation, u.firstExposureAt, false, 1);
      track(u, u.variation, early, 1);
      track(u, u.variation, early, -1);
      exposure(u, u.variation, u.firstExposureAt, false, -1);
      exposure(u, u.variation, u.firstExposureAt, true, 1);
      continue;
    }
    if (random() < 0.15) {
      // A later exposure to another arm was seen first; the earlier one arrived late and won.
      const other = arms.find((a) => a !== u.variation) ?? u.variation;
      const laterAt = u.firstExposureAt + 60_000;
      exposure(u, other, laterAt, false, 1);
      for (const e of u.events) if (e.timestamp >= laterAt) track(u, other, e, 1);
      for (const e of u.events) if (e.timestamp >= laterAt) track(u, other, e, -1);
      exposure(u, other, laterAt, false, -1);
    }
    exposure(u, u.variation, u.firstExposureAt, false, 1);
    for (const e of u.events) track(u, u.variation, e, 1);
    if (random() < 0.1) {
      const withdrawn: TruthEvent = {
        eventId: `${u.unit}-withdrawn`,
        event: 'purchase',
        timestamp: u.firstExposureAt + 5,
        weight: 2,
        value: 7,
      };
      track(u, u.variation, withdrawn, 1);
      track(u, u.variation, withdrawn, -1);
    }
  }
  return { exposures, attributed };
}

/** Per-variation sufficient statistics of `metric`, straight from semantics.md over the truth. */
export function expectedStats(
  units: readonly TruthUnit[],
  metric: string,
  window: { from?: number; to?: number } = {},
): { variations: VariationStats[]; multipleExposureUnits: number } {
  const inWindow = (t: number) =>
    (window.from === undefined || t >= window.from) && (window.to === undefined || t < window.to);
  const byArm = new Map<string, VariationStats>();
  let multipleExposureUnits = 0;
  for (const u of units) {
    if (!byArm.has(u.variation)) byArm.set(u.variation, blank(u.variation));
    if (window.to !== undefined && u.firstExposureAt >= window.to) continue;
    if (u.multipleExposure) {
      multipleExposureUnits += 1;
      continue;
    }
    const s = byArm.get(u.variation) as VariationStats;
    const events = u.events.filter((e) => e.event === metric && inWindow(e.timestamp));
    const k = events.reduce((sum, e) => sum + e.weight, 0);
    const x = events.reduce((sum, e) => sum + e.weight * (e.value ?? 0), 0);
    s.units += 1;
    s.conversions += events.length > 0 ? 1 : 0;
    s.sumCount += k;
    s.sumCountSq += k * k;
    s.sumValue += x;
    s.sumValueSq += x * x;
    s.sumWeight += k;
    s.sumWeightedValue += x;
  }
  const variations = [...byArm.values()].sort((a, b) => (a.variation < b.variation ? -1 : 1));
  return { variations, multipleExposureUnits };
}

function blank(variation: string): VariationStats {
  return {
    variation,
    units: 0,
    conversions: 0,
    sumValue: 0,
    sumValueSq: 0,
    sumCount: 0,
    sumCountSq: 0,
    sumWeight: 0,
    sumWeightedValue: 0,
  };
}
