/**
 * The soak's traffic, pure: an endless sequence of chunks, chunk k being the end-to-end scenario
 * (test/e2e/scenario) with seed `seed + k` — two projects (cumulative and decision attribution),
 * several experiments, anonymous users aliased later, two devices, retries, late events, bots and
 * invalid events — re-cut into requests of `batch` events, and the truth it must produce in the stats
 * service, from the independent reference (test/e2e/reference).
 *
 * Chunks can be summed because they share no identity: every user and anonymous id of a scenario is
 * a random 48-bit name, so no unit spans two chunks and per-variation counts (units, converted units,
 * multiple-exposure units) of the whole run are the sums of the chunks'. Sums of values are not
 * compared: floating-point addition in another order differs in the last bits.
 */
import { referenceSufficientStats } from '../../test/e2e/reference/semantics-reference.ts';
import {
  expectedAccepted,
  generateScenario,
  type RawEvent,
  type Scenario,
} from '../../test/e2e/scenario/scenario-generator.ts';

/** The scenario's two projects: the generator gives the first cumulative, the second decision attribution. */
export const SOAK_PROJECTS = ['soak-a', 'soak-b'] as const;

/** The metric whose converted units are compared end to end (the one with values and a real effect). */
export const TRUTH_METRIC = 'purchase';

export interface TrafficOptions {
  seed: number;
  /** Users per project in one chunk (≈ 7.5 events each, all kinds together). */
  usersPerChunk: number;
  experimentsPerProject: number;
  /** Events per request. */
  batch: number;
}

/** One request of a chunk. */
export interface ChunkRequest {
  project: string;
  /** JSON body `{"batch": [...]}`. */
  body: string;
  events: number;
  /** Events of the batch the gateway must accept (the others are bots or invalid on purpose). */
  expectedAccepted: number;
}

/** What one experiment must show in the stats service: per variation, and units seen in two or more. */
export interface ExperimentTruth {
  units: Record<string, number>;
  conversions: Record<string, number>;
  multipleExposureUnits: number;
}

/** Keyed by `<project>/<experiment>`. */
export type Truth = Record<string, ExperimentTruth>;

function scenarioOf(options: TrafficOptions, k: number, now: number, users: number): Scenario {
  return generateScenario({
    seed: options.seed + k,
    now,
    users,
    projects: SOAK_PROJECTS.length,
    experimentsPerProject: options.experimentsPerProject,
    projectIds: [...SOAK_PROJECTS],
  });
}

/** Attribution mode and expected split of each project, for the project catalog (same for every chunk). */
export function soakProjects(options: TrafficOptions): {
  id: string;
  attribution: 'cumulative' | 'decision';
  expectedSplit: Record<string, Record<string, number>>;
}[] {
  const scenario = scenarioOf(options, 0, Date.now(), 8);
  return scenario.projects.map((p) => ({
    id: p.id,
    attribution: p.attribution,
    expectedSplit: scenario.settings[p.id]?.expectedSplit ?? {},
  }));
}

/**
 * Chunk k: its requests (each project's events in the scenario's delivery order, cut into batches of
 * `options.batch`, the projects taking turns) and its truth. `now` anchors the event times, which lie
 * up to three days back (the gateway accepts 30).
 */
export function generateChunk(
  options: TrafficOptions,
  k: number,
  now: number,
): { requests: ChunkRequest[]; truth: Truth } {
  const scenario = scenarioOf(options, k, now, options.usersPerChunk);
  const perProject = new Map<string, { raw: RawEvent; accepted: boolean }[]>();
  scenario.requests.forEach((request, i) => {
    const list = perProject.get(request.project) ?? [];
    perProject.set(request.project, list);
    request.batch.forEach((raw, j) =>
      list.push({ raw, accepted: scenario.outcomes[i]?.[j]?.outcome === 'accepted' }),
    );
  });
  const queues = [...perProject].map(([project, events]) => {
    const out: ChunkRequest[] = [];
    for (let at = 0; at < events.length; at += options.batch) {
      const slice = events.slice(at, at + options.batch);
      out.push({
        project,
        body: JSON.stringify({ batch: slice.map((e) => e.raw) }),
        events: slice.length,
        expectedAccepted: slice.filter((e) => e.accepted).length,
      });
    }
    return out;
  });
  const requests: ChunkRequest[] = [];
  for (let i = 0; queues.some((q) => i < q.length); i++) {
    for (const q of queues) if (i < q.length) requests.push(q[i] as ChunkRequest);
  }
  return { requests, truth: truthOf(scenario) };
}

function truthOf(scenario: Scenario): Truth {
  const accepted = expectedAccepted(scenario);
  const truth: Truth = {};
  for (const project of scenario.projects) {
    for (const experiment of project.experiments) {
      const stats = referenceSufficientStats(
        accepted,
        scenario.settings,
        project.id,
        experiment.name,
        TRUTH_METRIC,
      );
      const t: ExperimentTruth = {
        units: {},
        conversions: {},
        multipleExposureUnits: stats.multipleExposureUnits,
      };
      for (const v of stats.variations) {
        t.units[v.variation] = v.units;
        t.conversions[v.variation] = v.conversions;
      }
      truth[`${project.id}/${experiment.name}`] = t;
    }
  }
  return truth;
}

/** Adds `more` into `into` (per-variation counts and multiple-exposure units). */
export function addTruth(into: Truth, more: Truth): void {
  for (const [key, t] of Object.entries(more)) {
    const sum = (into[key] ??= { units: {}, conversions: {}, multipleExposureUnits: 0 });
    sum.multipleExposureUnits += t.multipleExposureUnits;
    for (const [v, n] of Object.entries(t.units)) sum.units[v] = (sum.units[v] ?? 0) + n;
    for (const [v, n] of Object.entries(t.conversions)) sum.conversions[v] = (sum.conversions[v] ?? 0) + n;
  }
}
