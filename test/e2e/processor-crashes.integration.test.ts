/**
 * The processor dying under the whole pipeline: two instances share the partitions; while the scenario
 * flows in, one is SIGKILLed at random points and restarted, several times, and the other is killed for
 * good halfway. The survivors restore state from the changelogs and the transactions keep outputs,
 * changelogs and offsets together, so the stats service's answers must still equal the reference.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { NodeService } from '../../infra/local/node-service.ts';
import { freePort, startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { awaitReferenceResults, pipelineProjects, postBatch, verdictDifferences } from './e2e-client.ts';
import { generateScenario, type Scenario } from './scenario/scenario-generator.ts';

const LOAD_MS = 45_000;
const KILLS = 3;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('processor instances SIGKILLed under the whole pipeline', () => {
  let pipeline: Pipeline;
  let scenario: Scenario;
  let second: NodeService | undefined;

  beforeAll(async () => {
    scenario = generateScenario({ seed: 31_337, now: Date.now(), users: 300 });
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: pipelineProjects(scenario),
    });
    second = pipeline.startExtra('processor', { PROCESSOR_PORT: String(await freePort()) });
    await second.ready();
  }, 300_000);

  afterAll(async () => {
    await second?.stop();
    await pipeline?.stop();
  });

  it('gives the reference results however the instances die', async () => {
    // A seeded schedule, so a failure can be replayed: kill times spread over the load, jittered.
    let seed = 20_261_122;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const killAt = Array.from({ length: KILLS }, (_, k) => ((k + 0.3 + random() * 0.5) / KILLS) * LOAD_MS);
    const crashes = (async () => {
      const started = Date.now();
      for (const [k, at] of killAt.entries()) {
        await sleep(Math.max(0, started + at - Date.now()));
        await pipeline.services.processor.kill();
        if (k === 1) await second?.kill(); // the other instance is gone for good
        await sleep(500 + random() * 2_000);
        await pipeline.restart('processor');
      }
    })();

    const differences: string[] = [];
    const pace = LOAD_MS / scenario.requests.length;
    const started = Date.now();
    for (const [i, request] of scenario.requests.entries()) {
      await sleep(Math.max(0, started + i * pace - Date.now()));
      differences.push(
        ...verdictDifferences(scenario, i, await postBatch(pipeline, request.project, request.batch)),
      );
    }
    await crashes;
    expect(differences).toEqual([]);
    expect(second?.child.signalCode, 'the second instance was killed').toBe('SIGKILL');

    expect(await awaitReferenceResults(pipeline, scenario, 180_000)).toEqual({});
  }, 420_000);
});
