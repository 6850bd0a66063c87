/**
 * The processor's local state directory under a failing disk. Committed task state is cached on disk
 * (STATE_STORE=disk, LMDB under STATE_DIR); the changelog topics stay the only copy that counts. Here
 * STATE_DIR sits on a tmpfs of the test's own that is filled up mid-run: the processor must stop
 * cleanly with a clear error (exit 1; the Kafka transaction had committed, so nothing is lost, but the
 * cache would be behind); a start on a full disk must refuse, naming the directory and the cause; and
 * after space is freed, a restart restores from the changelogs and the results equal the reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { Tmpfs } from '../helpers/tmpfs.ts';
import {
  awaitReferenceResults,
  getResults,
  pipelineProjects,
  postBatch,
  verdictDifferences,
} from './e2e-client.ts';
import { generateScenario, type Scenario } from './scenario/scenario-generator.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('processor state on a disk that fills up', () => {
  let disk: Tmpfs;
  let stateDir: string;
  let pipeline: Pipeline;
  let scenario: Scenario;

  const logSize = (): number => fs.statSync(pipeline.services.processor.logFile).size;
  const logSince = (from: number): string =>
    fs.readFileSync(pipeline.services.processor.logFile).subarray(from).toString('utf8');

  const post = async (requests: Scenario['requests'], offset: number): Promise<string[]> => {
    const differences: string[] = [];
    for (const [j, request] of requests.entries()) {
      const body = await postBatch(pipeline, request.project, request.batch);
      differences.push(...verdictDifferences(scenario, offset + j, body));
    }
    return differences;
  };

  beforeAll(async () => {
    scenario = generateScenario({ seed: 78, now: Date.now(), users: 300 });
    disk = Tmpfs.mount('liftstream-state-disk', { sizeMb: 16 });
    stateDir = path.join(disk.dir, 'state');
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      projects: pipelineProjects(scenario),
      extraEnv: { STATE_STORE: 'disk', STATE_DIR: stateDir },
    });
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
    disk?.unmount();
  });

  it('stops the processor cleanly with a clear error when its state disk fills up mid-run', async () => {
    const half = Math.floor(scenario.requests.length / 2);
    expect(await post(scenario.requests.slice(0, half), 0)).toEqual([]);
    const [project] = scenario.projects;
    const experiment = project?.experiments[0];
    if (!project || !experiment) throw new Error('scenario without experiments');
    for (let i = 0; i < 60; i++) {
      const r = await getResults(pipeline, project.id, experiment.name, 'purchase', experiment.control);
      if (r !== undefined && typeof r !== 'string') break;
      await sleep(1_000);
    }
    const dirs = fs.readdirSync(stateDir);
    expect(dirs, 'one state directory, the running process’s').toEqual([
      expect.stringMatching(new RegExp(`^pid-${pipeline.services.processor.child.pid}-\\d+-`)),
    ]);

    const logFrom = logSize();
    const processor = pipeline.services.processor.child;
    const exited = new Promise<number | null>((resolve) => processor.once('exit', (code) => resolve(code)));
    disk.fill();
    expect(disk.freeBytes(), 'the tmpfs is full').toBeLessThan(64 * 1024);
    // The gateway does not depend on this disk: the second half is still accepted.
    expect(await post(scenario.requests.slice(half), half)).toEqual([]);

    const code = await Promise.race([exited, sleep(120_000).then(() => 'still running')]);
    expect(code, 'the processor stops with exit code 1 when its state disk refuses writes').toBe(1);
    const log = logSince(logFrom);
    expect(log).toMatch(
      /processor state store: writing committed state (identity|units)-\d+ failed: disk full/,
    );
    expect(log, 'the stop is the graceful one').toMatch(/"msg":"stopped"/);
    expect(pipeline.services.gateway.child.exitCode, 'the gateway is unaffected').toBeNull();
    expect(pipeline.services.stats.child.exitCode, 'stats is unaffected').toBeNull();
  }, 300_000);

  it('refuses to start on a full disk, naming the directory and the cause', async () => {
    // The stopped process deleted its directory, which freed some space: take it again.
    disk.fill();
    const logFrom = logSize();
    await expect(pipeline.restart('processor')).rejects.toThrow(/exited \(code 1\)/);
    const log = logSince(logFrom);
    expect(log).toContain(`the processor state store cannot use STATE_DIR ${JSON.stringify(stateDir)}`);
    expect(log).toMatch(/disk full/);
  }, 120_000);

  it('restores from the changelogs once space is freed: results equal the reference', async () => {
    disk.unfill();
    await pipeline.restart('processor');
    expect(await awaitReferenceResults(pipeline, scenario, 180_000)).toEqual({});
    expect(fs.readdirSync(stateDir), 'the stopped processes’ directories are gone').toEqual([
      expect.stringMatching(new RegExp(`^pid-${pipeline.services.processor.child.pid}-\\d+-`)),
    ]);
  }, 300_000);
});
