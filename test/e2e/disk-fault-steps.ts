/** Steps the local-disk fault tests share: post part of a scenario, wait for results, read a log's tail. */
import fs from 'node:fs';
import type { Pipeline } from '../helpers/pipeline.ts';
import { getResults, postBatch, verdictDifferences } from './e2e-client.ts';
import type { Scenario } from './scenario/scenario-generator.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Posts `requests` (the scenario's from index `offset`); returns every verdict that differs. */
export async function postScenarioPart(
  pipeline: Pipeline,
  scenario: Scenario,
  requests: Scenario['requests'],
  offset: number,
): Promise<string[]> {
  const differences: string[] = [];
  for (const [j, request] of requests.entries()) {
    const body = await postBatch(pipeline, request.project, request.batch);
    differences.push(...verdictDifferences(scenario, offset + j, body));
  }
  return differences;
}

/** Waits (up to a minute) until the first experiment has results: the pipeline is storing. Throws if not. */
export async function awaitFirstResults(pipeline: Pipeline, scenario: Scenario): Promise<void> {
  const [project] = scenario.projects;
  const experiment = project?.experiments[0];
  if (!project || !experiment) throw new Error('scenario without experiments');
  for (let i = 0; i < 60; i++) {
    const r = await getResults(pipeline, project.id, experiment.name, 'purchase', experiment.control).catch(
      (error: unknown) => {
        // The first stored round may hold only the other variations' exposures: stats then refuses a
        // control the project does not configure (400) until its units are stored too (a configured one
        // is listed at 0 units). Not yet, like a 404.
        if (error instanceof Error && /no variation named/.test(error.message)) return undefined;
        throw error;
      },
    );
    if (r !== undefined && typeof r !== 'string') return;
    await sleep(1_000);
  }
  throw new Error(
    `no results for ${project.id}/${experiment.name} within a minute: the pipeline is not storing`,
  );
}

/** A log file appended to across restarts: its size now, and what was written after a size. */
export function logTail(file: () => string): { size(): number; since(from: number): string } {
  return {
    size: () => fs.statSync(file()).size,
    since: (from) => fs.readFileSync(file()).subarray(from).toString('utf8'),
  };
}
