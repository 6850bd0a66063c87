/**
 * What end-to-end tests do as a client of the pipeline: post a scenario's batches the way a producer
 * does (retrying refused batches with the same message_ids), compare the gateway's verdicts with the
 * scenario's expectations, and wait until the stats service's answers equal the reference.
 */
import { awaitConverged } from '../helpers/await-converged.ts';
import type { ExperimentResults } from '../../services/stats/src/math/types.ts';
import type { MetricConfig, MetricSetConfig } from '../../shared/projects/metric-catalog.ts';
import type { Pipeline, PipelineProject } from '../helpers/pipeline.ts';
import { resultsDifferences } from './reference/results-difference.ts';
import { referenceResults } from './reference/semantics-reference.ts';
import { expectedAccepted, type Scenario } from './scenario/scenario-generator.ts';

export interface GatewayResponse {
  accepted: number;
  dropped?: number;
  rejected: Array<{ index: number; code: string; field: string; message: string }>;
}

export interface PostOptions {
  /** Retry 503s and connection errors until this time (ms since epoch); default: 5 retries. */
  retryUntil?: number;
  /** Called with every refused attempt (status, or 0 for a connection error). */
  onRefused?: (status: number) => void;
}

/** A project as the projects file states it: PipelineProject plus the analysis settings (metric-catalog.ts). */
export interface ScenarioPipelineProject extends PipelineProject {
  dimensions: string[];
  metrics: MetricConfig[];
  /** Experiment → metric set (the projects file's `experiments`). */
  experiments: Record<string, MetricSetConfig>;
}

/**
 * The scenario's projects as the pipeline configures them: attribution mode, expected splits, and the
 * analysis settings (dimensions, metric catalogue, metric sets) for the projects file.
 */
export function pipelineProjects(scenario: Scenario): ScenarioPipelineProject[] {
  return scenario.projects.map((p) => ({
    id: p.id,
    attribution: p.attribution,
    expectedSplit: scenario.settings[p.id]?.expectedSplit ?? {},
    dimensions: [...p.dimensions],
    metrics: structuredClone(p.metrics),
    experiments: structuredClone(p.metricSets),
  }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Posts one batch. A 503 means nothing was acknowledged, so a client retries the same batch (same
 * message_ids) — exactly what producers are told to do. Anything else but 200 is a failure.
 */
export async function postBatch(
  pipeline: Pipeline,
  project: string,
  batch: unknown[],
  opts: PostOptions = {},
): Promise<GatewayResponse> {
  for (let attempt = 0; ; attempt++) {
    const mayRetry = opts.retryUntil === undefined ? attempt < 5 : Date.now() < opts.retryUntil;
    let res: Response;
    try {
      res = await fetch(`${pipeline.gatewayUrl}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${pipeline.keys[project]?.write}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ batch }),
      });
    } catch (err) {
      opts.onRefused?.(0);
      if (!mayRetry) throw err;
      await sleep(500);
      continue;
    }
    if (res.status === 503 && mayRetry) {
      opts.onRefused?.(503);
      await res.body?.cancel();
      await sleep(500);
      continue;
    }
    if (res.status !== 200) throw new Error(`gateway ${res.status}: ${await res.text()}`);
    return (await res.json()) as GatewayResponse;
  }
}

/** Every way the gateway's verdict on request `i` differs from the scenario's expectation. */
export function verdictDifferences(scenario: Scenario, i: number, body: GatewayResponse): string[] {
  const outcomes = scenario.outcomes[i] ?? [];
  const differences: string[] = [];
  const expectAccepted = outcomes.filter((o) => o.outcome === 'accepted').length;
  const expectDropped = outcomes.filter((o) => o.outcome === 'dropped').length;
  if (body.accepted !== expectAccepted) {
    differences.push(`request ${i}: accepted ${body.accepted}, expected ${expectAccepted}`);
  }
  if ((body.dropped ?? 0) !== expectDropped) {
    differences.push(`request ${i}: dropped ${body.dropped ?? 0}, expected ${expectDropped}`);
  }
  const rejectedCodes = body.rejected.map((r) => `${r.index}:${r.code}`).sort();
  const expectedCodes = outcomes
    .map((o, j) => (o.outcome === 'rejected' ? `${j}:${o.code}` : undefined))
    .filter((x): x is string => x !== undefined)
    .sort();
  if (rejectedCodes.join() !== expectedCodes.join()) {
    differences.push(`request ${i}: rejected [${rejectedCodes.join()}], expected [${expectedCodes.join()}]`);
  }
  return differences;
}

export async function getResults(
  pipeline: Pipeline,
  project: string,
  experiment: string,
  metric: string,
  control: string,
): Promise<ExperimentResults | string | undefined> {
  const url = `${pipeline.statsUrl}/v1/experiments/${encodeURIComponent(experiment)}/results?metric=${metric}&control=${control}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${pipeline.keys[project]?.read}` } });
  if (res.status === 404) return undefined;
  // The sink writes exposures and attributed events from two topics, so for a moment one can lead the
  // other; stats answers that with a documented 503 + Retry-After, which a client retries.
  if (res.status === 503) return `stats 503 (still catching up): ${await res.text()}`;
  if (!res.ok) throw new Error(`stats ${res.status}: ${await res.text()}`);
  return (await res.json()) as ExperimentResults;
}

/**
 * Polls the stats service until every experiment × metric of the scenario equals the reference over the
 * accepted events and stays equal (awaitConverged), or the time is up; returns what still
 * differs, keyed by `project/experiment/metric`.
 */
export async function awaitReferenceResults(
  pipeline: Pipeline,
  scenario: Scenario,
  timeoutMs: number,
): Promise<Record<string, string[]>> {
  const accepted = expectedAccepted(scenario);
  const deadline = Date.now() + timeoutMs;
  const remaining: Record<string, string[]> = {};
  for (const project of scenario.projects) {
    for (const experiment of project.experiments) {
      for (const metric of scenario.metrics) {
        const expected = referenceResults(accepted, scenario.settings, project.id, experiment.name, metric, {
          control: experiment.control,
        });
        if (!expected.ok) throw new Error(`reference: ${expected.error.message}`);
        const differencesNow = async (): Promise<string[]> => {
          const actual = await getResults(pipeline, project.id, experiment.name, metric, experiment.control);
          if (typeof actual === 'string') return [actual];
          return actual ? resultsDifferences(actual, expected.value) : ['no results yet'];
        };
        const differences = await awaitConverged(differencesNow, deadline);
        if (differences.length > 0) {
          remaining[`${project.id}/${experiment.name}/${metric} (${project.attribution})`] = differences;
        }
      }
    }
  }
  return remaining;
}
