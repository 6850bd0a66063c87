/**
 * The monitoring profile queries only what exists: every metric name in the Grafana dashboard and the
 * alert rules (found with Prometheus's PromQL grammar) must be on the live /metrics of the service its
 * `job` label names, once the real gateway, processor and stats (+ sink) have handled a few events,
 * one of them rejected. The live endpoints also follow the naming rules: the `liftstream_` prefix, base
 * units (no `_ms`), `_total` on counters.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postBatch } from '../e2e/e2e-client.ts';
import {
  JOBS,
  PROMETHEUS_SERIES,
  monitoringQueries,
  selectorsOf,
  type Job,
} from '../helpers/monitoring-queries.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const PROJECT = 'shop';
const EXPERIMENT = 'checkout';
const EXPOSED_UNITS = 40;

/** What a /metrics page declares: each family's type, and the names of the samples it has now. */
interface Exposition {
  types: Map<string, string>;
  samples: Set<string>;
}

async function scrape(url: string): Promise<Exposition> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })
    .then((r) => r.text())
    .catch(() => '');
  const types = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    else if (line !== '' && !line.startsWith('#')) samples.add(/^[^{ ]+/.exec(line)?.[0] as string);
  }
  return { types, samples };
}

/** A referenced name is there when a sample has it, or it is a histogram whose _count sample is there. */
function present(name: string, page: Exposition): boolean {
  return (
    page.samples.has(name) || (page.types.get(name) === 'histogram' && page.samples.has(`${name}_count`))
  );
}

/** The metric names the dashboard and the alert rules read from each job. */
function referencedByJob(): Record<Job, Map<string, string[]>> {
  const byJob = Object.fromEntries(JOBS.map((j) => [j, new Map<string, string[]>()])) as Record<
    Job,
    Map<string, string[]>
  >;
  for (const query of monitoringQueries()) {
    for (const s of selectorsOf(query)) {
      if (PROMETHEUS_SERIES.has(s.metric)) continue;
      const names = byJob[s.job as Job];
      if (names === undefined) throw new Error(`${s.where}: ${s.metric} names no known job (${s.job})`);
      names.set(s.metric, [...(names.get(s.metric) ?? []), s.where]);
    }
  }
  return byJob;
}

describe('monitoring: the dashboard and alert rules query metrics the live services expose', () => {
  let pipeline: Pipeline;
  let urls: Record<Job, string>;

  beforeAll(async () => {
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: [
        {
          id: PROJECT,
          attribution: 'cumulative',
          expectedSplit: { [EXPERIMENT]: { control: 1, treatment: 1 } },
        },
      ],
    });
    urls = { gateway: pipeline.gatewayUrl, processor: pipeline.processorUrl, stats: pipeline.statsUrl };
    const now = Date.now();
    // Every unit in control although half should be in treatment: an SRM the stats service must flag.
    const exposures = Array.from({ length: EXPOSED_UNITS }, (_, i) => ({
      type: 'exposure',
      user_id: `u${i}`,
      experiment: EXPERIMENT,
      variation: 'control',
      timestamp: now - 60_000,
      message_id: `x${i}`,
    }));
    const first = await postBatch(pipeline, PROJECT, [
      ...exposures,
      {
        type: 'track',
        event: 'purchase',
        user_id: 'u1',
        value: 20,
        timestamp: now - 30_000,
        message_id: 't1',
      },
      { type: 'track', event: 'purchase', timestamp: now, message_id: 'no-identity' },
    ]);
    expect(first.accepted, 'exposures and the track event').toBe(EXPOSED_UNITS + 1);
    expect(
      first.rejected.map((r) => r.code),
      'one event rejected',
    ).toEqual(['missing_identity']);
    // An earlier exposure of u0 arriving late: the processor retracts u0's first exposure row (a correction).
    await postBatch(pipeline, PROJECT, [
      {
        type: 'exposure',
        user_id: 'u0',
        experiment: EXPERIMENT,
        variation: 'control',
        timestamp: now - 120_000,
        message_id: 'x0-late',
      },
    ]);
    await waitForStoredUnits(pipeline, EXPOSED_UNITS);
  }, 300_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('finds every metric name of every query on the /metrics of the job it names', async () => {
    const referenced = referencedByJob();
    let missing: Record<string, string[]> = {};
    // The SRM gauge computes on its first scrape and waits at most 2 s for it: a later scrape has it.
    const deadline = Date.now() + 30_000;
    do {
      missing = {};
      for (const job of JOBS) {
        const page = await scrape(urls[job]);
        const absent = [...referenced[job]].filter(([name]) => !present(name, page));
        if (absent.length > 0) missing[job] = absent.map(([name, where]) => `${name} (${where.join('; ')})`);
      }
      if (Object.keys(missing).length === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    } while (Date.now() < deadline);
    expect(missing, 'metric names queried but not on the live /metrics of their job').toEqual({});
  });

  it('counts the experiment in SRM in liftstream_stats_srm_alarms, naming neither it nor its project', async () => {
    const text = await (await fetch(`${pipeline.statsUrl}/metrics`)).text();
    expect(text).toMatch(/^liftstream_stats_srm_alarms 1$/m);
    expect(text).toMatch(/^liftstream_stats_running_experiments 1$/m);
    expect(text).not.toContain(EXPERIMENT);
    expect(text).not.toContain(PROJECT);
  });

  it('names every live metric with the liftstream_ prefix, in base units, counters ending in _total', async () => {
    const problems: string[] = [];
    for (const job of JOBS) {
      const page = await scrape(urls[job]);
      expect(page.types.size, `${job} answers /metrics`).toBeGreaterThan(0);
      for (const [name, type] of page.types) {
        if (!name.startsWith('liftstream_')) problems.push(`${job}: ${name} lacks the liftstream_ prefix`);
        if (/_ms$|_milliseconds$/.test(name)) problems.push(`${job}: ${name} is not in seconds`);
        if (type === 'counter' && !name.endsWith('_total'))
          problems.push(`${job}: counter ${name} lacks _total`);
      }
      for (const name of page.samples) {
        if (/_ms(_bucket|_sum|_count)?$/.test(name))
          problems.push(`${job}: sample ${name} is not in seconds`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** Waits until the stats service counts `units` analysed units of the experiment (the sink stored them). */
async function waitForStoredUnits(pipeline: Pipeline, units: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  let seen: unknown = null;
  while (Date.now() < deadline) {
    const res = await fetch(`${pipeline.statsUrl}/v1/experiments`, {
      headers: { authorization: `Bearer ${pipeline.keys[PROJECT]?.read}` },
    }).catch(() => null);
    if (res?.ok) {
      const body = (await res.json()) as { experiments: { experiment: string; units: number }[] };
      seen = body.experiments;
      if (body.experiments.find((e) => e.experiment === EXPERIMENT)?.units === units) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `the stats service did not reach ${units} units in 90 s; last seen ${JSON.stringify(seen)}`,
  );
}
