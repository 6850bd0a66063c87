/**
 * The read commands of the `liftstream` CLI as a user runs them (real processes) against the real
 * pipeline: the quick start's batch posted through the gateway, then `experiments` and `results` (their
 * --json equal to the API's own answers, their tables showing the API's figures, their exit codes for a
 * wrong key and an unknown experiment), and `tail` printing an event posted after it started and
 * stopping cleanly on SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatInterval, formatNumber, formatPValue, formatRate } from '../../cli/src/figures.ts';
import { repoRoot } from '../../infra/local/paths.ts';
import { postBatch } from '../e2e/e2e-client.ts';
import { awaitConverged } from '../helpers/await-converged.ts';
import { cliMain, runCliProcess } from '../helpers/cli-run.ts';
import { freePort, startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { tempDir } from '../helpers/temp-dirs.ts';

const PROJECT = 'cli';

/** The quick start's batch (README "Event API"), without its refused event. */
const BATCH = [
  { type: 'exposure', user_id: 'u-1', experiment: 'checkout', variation: 'control' },
  { type: 'exposure', user_id: 'u-2', experiment: 'checkout', variation: 'control' },
  { type: 'exposure', anonymous_id: 'a-3', experiment: 'checkout', variation: 'treatment' },
  { type: 'exposure', user_id: 'u-4', experiment: 'checkout', variation: 'treatment' },
  { type: 'track', user_id: 'u-1', event: 'purchase', value: 20 },
  { type: 'track', anonymous_id: 'a-3', event: 'purchase', value: 35 },
  { type: 'alias', anonymous_id: 'a-3', user_id: 'u-3' },
  { type: 'track', user_id: 'u-3', event: 'purchase', value: 15 },
];

interface VariationFigures {
  variation: string;
  units: number;
  conversions: number;
  estimate: number | null;
  lift_ci: number[] | null;
  p_value: number | null;
  sequential: { lift_ci: number[] | null; p_value: number | null } | null;
}
interface MetricAnswer {
  computed_at?: string;
  metrics: Array<{ metric: string; variations: VariationFigures[] }>;
}

describe('liftstream experiments, results and tail against the pipeline', () => {
  let pipeline: Pipeline;
  let cliEnv: Record<string, string>;

  const api = async (path: string, key = pipeline.keys[PROJECT]?.read): Promise<unknown> => {
    const res = await fetch(`${pipeline.statsUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return res.json() as Promise<unknown>;
  };
  const cli = (argv: string[], env: Record<string, string> = {}) =>
    runCliProcess(argv, tempDir(), { ...cliEnv, ...env });
  const withoutTime = (body: unknown) => ({ ...(body as object), computed_at: undefined });

  beforeAll(async () => {
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: [
        {
          id: PROJECT,
          attribution: 'cumulative',
          metrics: [
            { id: 'purchased', type: 'conversion', event: 'purchase' },
            { id: 'revenue', type: 'mean', event: 'purchase' },
          ],
          experiments: { checkout: { metrics: ['purchased', 'revenue'], control: 'control' } },
        },
      ],
    });
    cliEnv = {
      LIFTSTREAM_URL: pipeline.statsUrl,
      LIFTSTREAM_READ_KEY: pipeline.keys[PROJECT]?.read as string,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('registryUrl'),
      TOPIC_PREFIX: pipeline.topicPrefix,
    };
    expect((await postBatch(pipeline, PROJECT, BATCH)).accepted).toBe(BATCH.length);
    // u-3's purchase joins a-3's once the alias is in: treatment then has one converting unit worth 50.
    const differences = await awaitConverged(
      async () => {
        const body = (await api('/v1/experiments/checkout/results')) as MetricAnswer;
        const got = body.metrics?.map((m) =>
          m.variations.map((v) => [v.variation, v.units, v.conversions, v.estimate]),
        );
        const want = [
          [
            ['control', 2, 1, 0.5],
            ['treatment', 2, 1, 0.5],
          ],
          [
            ['control', 2, 1, 10],
            ['treatment', 2, 1, 25],
          ],
        ];
        return JSON.stringify(got) === JSON.stringify(want) ? [] : [JSON.stringify(got ?? body)];
      },
      Date.now() + 60_000,
      1_000,
    );
    expect(differences, 'the pipeline counted the batch').toEqual([]);
  }, 180_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('--json prints what the API answers: experiments, the metric set and one event', async () => {
    const [experiments, metricSet, event] = await Promise.all([
      cli(['experiments', '--json']),
      cli(['results', 'checkout', '--json']),
      cli(['results', 'checkout', '--metric', 'purchase', '--json', '--confidence', '0.9']),
    ]);
    for (const result of [experiments, metricSet, event]) expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(experiments.stdout)).toEqual(await api('/v1/experiments'));
    const json = JSON.parse(metricSet.stdout) as MetricAnswer & { last_event_at: string | null };
    expect(json.metrics[0]?.variations[1]?.sequential, 'both kinds of figures in --json').toBeDefined();
    expect(json.last_event_at, 'freshness in --json').toEqual(expect.any(String));
    expect(withoutTime(JSON.parse(metricSet.stdout))).toEqual(
      withoutTime(await api('/v1/experiments/checkout/results')),
    );
    expect(withoutTime(JSON.parse(event.stdout))).toEqual(
      withoutTime(await api('/v1/experiments/checkout/results?metric=purchase&confidence=0.9')),
    );
  });

  it("the tables show the API's figures, without colour when not a terminal", async () => {
    const [experiments, results, revenue] = await Promise.all([
      cli(['experiments']),
      cli(['results', 'checkout']),
      cli(['results', 'checkout', '--metric', 'revenue']),
    ]);
    expect(experiments.stdout).toMatch(/^Project cli: 1 experiment\n/);
    expect(experiments.stdout).toMatch(/\n {2}checkout +4 +control 2, treatment 2 +0 /);
    const answer = (await api('/v1/experiments/checkout/results')) as MetricAnswer;
    const [purchased, mean] = answer.metrics;
    const treatment = purchased?.variations[1] as VariationFigures;
    expect(results.stdout).toContain(
      'purchased: conversion of purchase, goal (sequential test; fixed-horizon: two-proportion z-test)',
    );
    expect(results.stdout).toMatch(
      new RegExp(`\\n {2}treatment +2 +1 +${formatRate(treatment.estimate).replace('.', '\\.')} +\\+0\\.0% `),
    );
    expect(results.stdout).toContain('revenue: mean of purchase, goal');
    expect(results.stdout).toMatch(
      new RegExp(
        `\\n {2}treatment +2 +1 +${formatNumber(mean?.variations[1]?.estimate ?? null)} +\\+150\\.0% `,
      ),
    );
    expect(results.stdout).toMatch(
      /\nSample ratio: as expected \(p = 1\.0000; observed control 2, treatment 2/,
    );
    expect(results.stdout, 'no escape codes in a pipe').not.toContain('\u001b[');
    expect(revenue.stdout, 'a catalogue id asks for that metric alone').not.toContain('purchased:');
    expect(revenue.stdout).toContain('revenue: mean of purchase');
  });

  it('shows the sequential interval and p-value by default, the fixed-horizon ones with --fixed-horizon', async () => {
    const [sequential, fixed] = await Promise.all([
      cli(['results', 'checkout', '--metric', 'purchased']),
      cli(['results', 'checkout', '--metric', 'purchased', '--fixed-horizon']),
    ]);
    for (const result of [sequential, fixed]) expect(result.code, result.stderr).toBe(0);
    const answer = (await api('/v1/experiments/checkout/results?metrics=purchased')) as MetricAnswer;
    const treatment = answer.metrics[0]?.variations[1] as VariationFigures;
    expect(treatment.sequential, 'the API sends a sequential block').not.toBeNull();
    const cells = (stdout: string) =>
      stdout
        .split('\n')
        .find((l) => l.trimStart().startsWith('treatment '))
        ?.trim()
        .split(/\s{2,}/)
        .slice(5, 7);
    expect(sequential.stdout).toMatch(/\nShowing sequential \(always-valid\) 95% intervals and p-values/);
    expect(cells(sequential.stdout), "the API's sequential figures").toEqual([
      formatInterval(treatment.sequential?.lift_ci ?? null),
      formatPValue(treatment.sequential?.p_value ?? null),
    ]);
    expect(fixed.stdout).toMatch(
      /\nShowing fixed-horizon 95% intervals and p-values: valid only when read once/,
    );
    expect(cells(fixed.stdout), "the API's fixed-horizon figures").toEqual([
      formatInterval(treatment.lift_ci),
      formatPValue(treatment.p_value),
    ]);
  });

  it('exit codes: 1 for a wrong or write key and an unknown experiment, 3 for a server that is not there', async () => {
    const nothingThere = `http://127.0.0.1:${await freePort()}`;
    const [wrong, write, unknown, down] = await Promise.all([
      cli(['experiments'], { LIFTSTREAM_READ_KEY: 'lsr_notakeyofanyproject' }),
      cli(['results', 'checkout'], { LIFTSTREAM_READ_KEY: pipeline.keys[PROJECT]?.write as string }),
      cli(['results', 'chekout', '--metric', 'purchase']),
      cli(['experiments', '--url', nothingThere]),
    ]);
    expect(wrong).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'liftstream: the stats API refused the key: unknown API key (401 unauthorized); set LIFTSTREAM_READ_KEY to a read key of the project\n',
    });
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/\(403 forbidden\); LIFTSTREAM_READ_KEY must be a read key/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^liftstream: .*"chekout" \(404 unknown_experiment\); did you mean "checkout"\?/,
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`liftstream: cannot reach the stats API at ${nothingThere} (ECONNREFUSED)`);
  });

  it('tail prints the events accepted after it started, filtered, and stops cleanly on SIGINT', async () => {
    const unit = `u-tail-${randomUUID().slice(0, 8)}`;
    // One process (node with tsx's loader, not the tsx wrapper), so the signal reaches the command itself.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliMain, 'tail', '--project', PROJECT, '--unit', unit, '--json'],
      { cwd: repoRoot, env: { ...process.env, ...cliEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = collect(child);
    try {
      await output.until(() => output.stderr.includes('Following '), 30_000, 'the ready note');
      expect(output.stderr).toContain(`Following ${pipeline.topicPrefix}ingest at ${inject('kafkaBrokers')}`);
      await postBatch(pipeline, PROJECT, [
        { type: 'track', user_id: 'someone-else', event: 'purchase', value: 1 },
        { type: 'exposure', user_id: unit, experiment: 'checkout', variation: 'treatment' },
        { type: 'track', user_id: unit, event: 'purchase', value: 12.5 },
      ]);
      await output.until(() => output.lines().length >= 2, 20_000, "the unit's two events");
      child.kill('SIGINT');
      const code = await output.exit;
      expect(code, output.stderr).toBe(0);
      const events = output.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events.map((e) => [e['project'], e['type'], e['user_id']])).toEqual([
        [PROJECT, 'exposure', unit],
        [PROJECT, 'track', unit],
      ]);
      expect(events[1]).toMatchObject({ event: 'purchase', value: 12.5, anonymous_id: null });
      expect(output.stderr).toMatch(/\nStopped: 2 of \d+ events shown\.\n$/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** A child's stdout and stderr as they arrive, a wait for a condition on them, and its exit code. */
function collect(child: ChildProcess) {
  const state = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (state.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (state.stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    get stdout() {
      return state.stdout;
    },
    get stderr() {
      return state.stderr;
    },
    lines: () => state.stdout.split('\n').filter((l) => l !== ''),
    exit,
    async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(
            `no ${what} within ${timeoutMs} ms; stdout: ${state.stdout}; stderr: ${state.stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
