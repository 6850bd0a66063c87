/**
 * Local state under a failing disk: embedded ClickHouse (CLICKHOUSE_DATA_DIR, held by stats and its
 * hosted sink). The processor's on-disk state cache has its own test (processor-state-disk-faults).
 * Here the data directory sits on a tmpfs of the test's own that is filled up mid-run: the sink must
 * stop cleanly with a clear error (exit 1, not retry silently or corrupt anything); a start on a full or
 * read-only disk must refuse, naming the directory and the cause; and after space is freed, a restart
 * must resume exactly where it stopped: results equal the reference, nothing lost or counted twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { Tmpfs } from '../helpers/tmpfs.ts';
import { awaitReferenceResults, pipelineProjects } from './e2e-client.ts';
import { awaitFirstResults, logTail, postScenarioPart } from './disk-fault-steps.ts';
import { generateScenario, type Scenario } from './scenario/scenario-generator.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('embedded ClickHouse on a disk that fills up', () => {
  let disk: Tmpfs;
  let pipeline: Pipeline;
  let scenario: Scenario;

  const statsLog = logTail(() => pipeline.services.stats.logFile);
  const statsLogSince = statsLog.since;
  const statsLogSize = statsLog.size;
  const post = (requests: Scenario['requests'], offset: number): Promise<string[]> =>
    postScenarioPart(pipeline, scenario, requests, offset);

  beforeAll(async () => {
    scenario = generateScenario({ seed: 77, now: Date.now(), users: 200 });
    disk = Tmpfs.mount('liftstream-full-disk', { sizeMb: 96 });
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      projects: pipelineProjects(scenario),
      clickhouseDataDir: path.join(disk.dir, 'clickhouse'),
    });
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
    disk?.unmount();
  });

  it('stops the sink cleanly with a clear error when the disk fills up mid-run', async () => {
    const half = Math.floor(scenario.requests.length / 2);
    expect(await post(scenario.requests.slice(0, half), 0)).toEqual([]);
    // Wait until the first half is being stored, so the disk fills under a working sink.
    await awaitFirstResults(pipeline, scenario);
    await sleep(3_000);

    const logFrom = statsLogSize();
    const stats = pipeline.services.stats.child;
    const exited = new Promise<number | null>((resolve) => stats.once('exit', (code) => resolve(code)));
    disk.fill();
    expect(disk.freeBytes(), 'the tmpfs is full').toBeLessThan(64 * 1024);
    // The gateway and the processor do not depend on this disk: the second half is still accepted.
    expect(await post(scenario.requests.slice(half), half)).toEqual([]);

    const code = await Promise.race([exited, sleep(120_000).then(() => 'still running')]);
    expect(code, 'stats stops with exit code 1 when its disk refuses writes').toBe(1);
    const log = statsLogSince(logFrom);
    expect(log).toMatch(/local ClickHouse storage refused a write: disk full/);
    expect(log, 'the stop is the graceful one').toMatch(/"msg":"sink stopped"/);
    expect(pipeline.services.gateway.child.exitCode, 'the gateway is unaffected').toBeNull();
    expect(pipeline.services.processor.child.exitCode, 'the processor is unaffected').toBeNull();
  }, 300_000);

  it('refuses to start on a full disk, naming the directory and the cause', async () => {
    disk.fill();
    const logFrom = statsLogSize();
    await expect(pipeline.restart('stats')).rejects.toThrow(/exited \(code 1\)/);
    const log = statsLogSince(logFrom);
    expect(log).toContain(
      `embedded ClickHouse cannot use CLICKHOUSE_DATA_DIR "${path.join(disk.dir, 'clickhouse')}"`,
    );
    expect(log).toMatch(/disk full/);
  }, 120_000);

  it('refuses to start on a read-only disk, naming the directory and the cause', async () => {
    const readOnly = Tmpfs.mount('liftstream-ro-disk', { sizeMb: 8, readOnly: true });
    try {
      const logFrom = statsLogSize();
      // The mount point itself: it exists, so the refusal comes from the write, not from mkdir.
      const dataDir = readOnly.dir;
      await expect(pipeline.restart('stats', { CLICKHOUSE_DATA_DIR: dataDir })).rejects.toThrow(
        /exited \(code 1\)/,
      );
      const log = statsLogSince(logFrom);
      expect(log).toContain(`embedded ClickHouse cannot use CLICKHOUSE_DATA_DIR "${dataDir}"`);
      expect(log).toMatch(/file system is read-only/);
    } finally {
      readOnly.unmount();
    }
  }, 120_000);

  it('resumes where it stopped once space is freed: results equal the reference', async () => {
    disk.unfill();
    await pipeline.restart('stats');
    expect(await awaitReferenceResults(pipeline, scenario, 120_000)).toEqual({});
  }, 300_000);

  it('a second process on the same data directory refuses to start, naming the holder', async () => {
    const holder = pipeline.services.stats.child.pid;
    const second = pipeline.startExtra('stats', { STATS_PORT: String(await freePort()) });
    try {
      await expect(second.ready()).rejects.toThrow(/exited \(code 1\)/);
      const log = fs.readFileSync(second.logFile, 'utf8');
      expect(log).toContain(
        `embedded ClickHouse could not open CLICKHOUSE_DATA_DIR "${path.join(disk.dir, 'clickhouse')}": ` +
          `it is locked by another process (pid ${holder})`,
      );
      expect(pipeline.services.stats.child.exitCode, 'the holder keeps running').toBeNull();
      expect((await fetch(`${pipeline.statsUrl}/readyz`)).status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
