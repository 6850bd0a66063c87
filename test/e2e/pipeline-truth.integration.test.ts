/**
 * End-to-end truth: a seeded, realistic scenario (two projects, two experiments each, anonymous users who
 * log in later, two-device users, late and out-of-order events, retries, sampled events, bots, personal data,
 * invalid fields; a metric catalogue with windows, caps and a ratio; country and platform dimensions;
 * chained aliases) is posted through the real gateway over HTTP; the processor and the sink run as separate
 * processes against the real broker and registry; the stats service's answers must equal an independent
 * computation of docs/semantics.md over the events the gateway accepted: counts exactly, statistics to 1e-9.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awaitReferenceResults, pipelineProjects, postBatch, verdictDifferences } from './e2e-client.ts';
import { awaitReferenceMetricResults } from './metric-results-check.ts';
import { generateScenario, type Scenario } from './scenario/scenario-generator.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const CONVERGE_TIMEOUT_MS = 90_000;

describe('end-to-end truth: gateway → processor → sink → stats equals the semantics', () => {
  let scenario: Scenario;
  let pipeline: Pipeline;

  beforeAll(async () => {
    scenario = generateScenario({ seed: 4242, now: Date.now(), users: 400 });
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: pipelineProjects(scenario),
    });
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('accepts, rejects and drops exactly the events the rules say, each with the expected code', async () => {
    let concurrency: Promise<void>[] = [];
    const differences: string[] = [];
    for (const [i, request] of scenario.requests.entries()) {
      concurrency.push(
        postBatch(pipeline, request.project, request.batch).then((body) => {
          differences.push(...verdictDifferences(scenario, i, body));
        }),
      );
      if (concurrency.length >= 8) {
        await Promise.all(concurrency);
        concurrency = [];
      }
    }
    await Promise.all(concurrency);
    expect(differences).toEqual([]);
  });

  it('serves results equal to the reference for every experiment and metric, in both attribution modes', async () => {
    expect(await awaitReferenceResults(pipeline, scenario, CONVERGE_TIMEOUT_MS)).toEqual({});
  });

  it('serves catalogue metrics, metric sets, breakdowns by country and daily series equal to the reference', async () => {
    expect(await awaitReferenceMetricResults(pipeline, scenario, CONVERGE_TIMEOUT_MS)).toEqual({});
  });

  it("keeps projects apart: one project's read key cannot see another's experiments", async () => {
    const [a, b] = scenario.projects;
    if (!a || !b) throw new Error('scenario needs two projects');
    const experiment = b.experiments[0]?.name ?? '';
    const res = await fetch(
      `${pipeline.statsUrl}/v1/experiments/${encodeURIComponent(experiment)}/results?metric=purchase`,
      {
        headers: { authorization: `Bearer ${pipeline.keys[a.id]?.read}` },
      },
    );
    // Experiment names are generated per project; if both projects share a name the results must still be A's own.
    if (a.experiments.some((e) => e.name === experiment)) {
      const body = (await res.json()) as { experiment: string };
      expect(body.experiment).toBe(experiment);
    } else {
      expect(res.status).toBe(404);
    }
    const write = await fetch(`${pipeline.statsUrl}/v1/experiments`, {
      headers: { authorization: `Bearer ${pipeline.keys[a.id]?.write}` },
    });
    expect(write.status, 'a write key may not read results').toBe(403);
  });
});
