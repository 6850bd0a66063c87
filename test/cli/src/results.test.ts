import { afterEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../cli/src/cli-error.ts';
import { resultsQuery } from '../../../cli/src/results.ts';
import { runCliInProcess } from '../../helpers/cli-run.ts';
import { apiError, startFakeStatsApi, type FakeStatsApi } from '../../helpers/fake-stats-api.ts';
import {
  catalogueAnswer,
  eventResultsAnswer,
  experimentsAnswer,
  metricResultsAnswer,
} from '../../helpers/stats-answers.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

describe('which results request a --metric makes', () => {
  it('a catalogue id asks for metrics=, anything else for the event metric=; options pass through', () => {
    expect(resultsQuery('checkout_v2', { metric: 'purchased', confidence: '0.9' }, catalogueAnswer)).toEqual({
      metrics: 'purchased',
      dimension: undefined,
      control: undefined,
      confidence: '0.9',
    });
    expect(resultsQuery('checkout', { metric: 'purchase', control: 'a' }, catalogueAnswer)).toMatchObject({
      metric: 'purchase',
      control: 'a',
    });
    expect(resultsQuery('x', { metric: 'purchased,errors' }, catalogueAnswer).metrics, 'a list').toBe(
      'purchased,errors',
    );
  });

  it('without --metric: the metric set, which the experiment must have', () => {
    expect(resultsQuery('checkout_v2', { dimension: 'country' }, catalogueAnswer)).toEqual({
      dimension: 'country',
      control: undefined,
      confidence: undefined,
    });
    let error: unknown;
    try {
      resultsQuery('checkout_v1', {}, catalogueAnswer);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.failure);
    expect((error as CliError).message).toBe(
      'experiment "checkout_v1" has no metric set in project "demo" (did you mean "checkout_v2"?); ' +
        'pass --metric with an event name (--metric purchase) or catalogue metrics (purchased, errors)',
    );
  });
});

describe('liftstream results and experiments against a stand-in API', () => {
  let fake: FakeStatsApi | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const run = (argv: string[]) =>
    runCliInProcess(argv, tempDir(), undefined, { LIFTSTREAM_URL: fake?.url, LIFTSTREAM_READ_KEY: 'lsr_k' });

  async function startApi() {
    fake = await startFakeStatsApi({
      '/v1/metrics': { body: catalogueAnswer },
      '/v1/experiments': { body: experimentsAnswer },
      '/v1/experiments/checkout/results': (q) =>
        q.get('metric') === 'purchase'
          ? { body: eventResultsAnswer }
          : apiError(
              404,
              'unknown_metric',
              `project "demo" has no metric or event named "${q.get('metric')}"`,
            ),
      '/v1/experiments/checkout_v2/results': { body: metricResultsAnswer },
      '/v1/experiments/chekout/results': apiError(
        404,
        'unknown_experiment',
        'project "demo" has no exposure to an experiment named "chekout"',
      ),
    });
    return fake;
  }

  it('results --json prints the answer as it came, byte for byte', async () => {
    await startApi();
    const result = await run(['results', 'checkout', '--metric', 'purchase', '--json']);
    expect(result).toEqual({ code: 0, stdout: `${JSON.stringify(eventResultsAnswer)}\n`, stderr: '' });
  });

  it('results without --metric asks for the metric set and prints a table per metric', async () => {
    const api = await startApi();
    const result = await run(['results', 'checkout_v2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('purchased: conversion of purchase');
    expect(result.stdout).toContain('significant increase (better)');
    expect(api.requests.map((r) => [r.path, r.query])).toEqual([
      ['/v1/metrics', {}],
      ['/v1/experiments/checkout_v2/results', {}],
    ]);
    expect(new Set(api.requests.map((r) => r.authorization))).toEqual(new Set(['Bearer lsr_k']));
  });

  it("an unknown experiment: the API's message, a close name, exit 1", async () => {
    await startApi();
    expect(await run(['results', 'chekout', '--metric', 'purchase'])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'liftstream: project "demo" has no exposure to an experiment named "chekout" (404 unknown_experiment); ' +
        'did you mean "checkout"? See liftstream experiments\n',
    });
  });

  it("an unknown event: the API's message and the catalogue name it is close to", async () => {
    await startApi();
    const result = await run(['results', 'checkout', '--metric', 'purchases']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'liftstream: project "demo" has no metric or event named "purchases" (404 unknown_metric); did you mean "purchased"?\n',
    );
  });

  it('experiments: the table, or --json as it came', async () => {
    await startApi();
    const table = await run(['experiments']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^Project demo: 1 experiment\n/);
    expect(table.stdout).toMatch(/checkout +4 +control 2, treatment 2/);
    expect((await run(['experiments', '--json'])).stdout).toBe(`${JSON.stringify(experimentsAnswer)}\n`);
  });

  it('usage errors before any request: EXPERIMENT missing or doubled, unknown option with a suggestion', async () => {
    const api = await startApi();
    const cases: Array<[string[], string]> = [
      [['results'], 'liftstream: EXPERIMENT is required for "results"; see liftstream results --help\n'],
      [
        ['results', 'a', 'b'],
        'liftstream: unexpected argument "b" for "results"; see liftstream results --help\n',
      ],
      [
        ['results', 'a', '--metrc', 'x'],
        'liftstream: unknown option --metrc for "results" (did you mean --metric?); see liftstream results --help\n',
      ],
      [
        ['experiments', 'x'],
        'liftstream: unexpected argument "x" for "experiments"; see liftstream experiments --help\n',
      ],
    ];
    for (const [argv, stderr] of cases)
      expect(await run(argv), argv.join(' ')).toEqual({ code: 2, stdout: '', stderr });
    expect(api.requests, 'nothing asked').toEqual([]);
  });

  it('a name that starts with "-" goes after --', async () => {
    const api = await startApi();
    await run(['results', '--metric', 'purchase', '--', '-odd']);
    expect(api.requests.map((r) => r.path)).toContain('/v1/experiments/-odd/results');
  });
});
