/**
 * Stats benchmark (not a test): the results endpoints over embedded ClickHouse (chDB), no broker. Each request
 * is timed twice in the same run: in-process (what the route runs, minus HTTP) and over HTTP (the real stats
 * app on a loopback port, a fetch per request: routing, auth, serialisation and the socket included).
 *
 *   npx tsx bench/stats-bench.ts                      # 1,000,000 units, 5,000,000 attributed rows
 *   npx tsx bench/stats-bench.ts --units=10000000     # 10x (rows scale with units)
 *   options: --rows-per-unit=5 --runs=20 (at most, per line) --budget-s=20 --min-runs=5 (stop adding runs of
 *            a line after about budget-s, but run at least min-runs) --max-memory-gb=12 (ClickHouse's
 *            max_memory_usage per query: a line over it is reported as failed instead of starving the
 *            machine) --no-statements (skip timing each statement alone) --no-extras (skip issue 5's slow
 *            lines: sink-sized inserts, window, join, restore) --only=series (only the issue 15 lines whose
 *            label contains it; the baseline always runs) --keep (keep the data dir and print it)
 *   at 10M units: --units=10000000 --min-runs=2 --no-statements --no-extras keeps a run under ~30 minutes
 *
 * Data: bench/lib/stats-bench-data.ts (one experiment, 3 arms, dimensions on exposures, 30 days of rows).
 * `variation_metrics` is built from `attributed` in one statement (the bulk-load path; the running sink
 * maintains it per insert, which the sink tests check against the same truth). Timed after background
 * merges settle:
 * - issue 5, the baseline: `loadResultsAggregates` + `computeResults` + `toResultsBody` (GET
 *   /v1/experiments/:experiment/results?metric=purchase, the maintained per-variation sums);
 * - issue 15 (bench/lib/stats-catalogue.ts): 5 catalogue metrics (`metricResultsBody`), the same without the
 *   window, by country, and two daily time series, each against its target; then each request's ClickHouse
 *   statements alone (where the time goes);
 * - issue 16: the 5 metrics with CUPED on the three mean/count ones (covariate rows for 40% of units), with
 *   their sequential blocks (every catalogue line computes those);
 * - issue 5's other paths (a time window, the join used when tables disagree, 2,000 sink-sized inserts) and
 *   the sink's restore of one partition, unless --no-extras.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../shared/logging/logger.ts';
import { generateApiKey } from '../shared/projects/api-key.ts';
import { parseProjectCatalog } from '../shared/projects/project-catalog.ts';
import type { ProjectSettings } from '../shared/projects/project-catalog.ts';
import { buildStatsApp } from '../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../services/stats/src/config.ts';
import { createStatsMetrics } from '../services/stats/src/stats-metrics.ts';
import { migrate } from '../shared/clickhouse/migrations.ts';
import { rebuildVariationMetrics, restoreUnitTotals } from '../services/sink/src/sink-clickhouse.ts';
import { toResultsBody } from '../services/stats/src/http/results-response.ts';
import { computeResults } from '../services/stats/src/math/experiment-results.ts';
import { loadResultsAggregates, queryMetricSums } from '../services/stats/src/storage/results-query.ts';
import type { ResultsQuery } from '../services/stats/src/storage/results-query.ts';
import { percentile, rssMb, timeRuns, timeWithin } from './lib/run-timings.ts';
import { openTempClickHouse } from './lib/temp-clickhouse.ts';
import type { TimingSummary } from './lib/run-timings.ts';
import {
  BASE_MS,
  DATA_DAYS,
  DAY_MS,
  describeTables,
  EXPERIMENT,
  loadAttributed,
  loadCovariates,
  loadExposures,
  PROJECT,
  settleMerges,
} from './lib/stats-bench-data.ts';
import { BENCH_ANALYSIS, catalogueRequests, seriesPoints } from './lib/stats-catalogue.ts';
import type { BenchRequest } from './lib/stats-catalogue.ts';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k as string, v ?? 'true'];
  }),
);
const UNITS = Number(args.get('units') ?? 1_000_000);
const ROWS_PER_UNIT = Number(args.get('rows-per-unit') ?? 5);
const RUNS = Number(args.get('runs') ?? 20);
const BUDGET_MS = Number(args.get('budget-s') ?? 20) * 1000;
const MIN_RUNS = Number(args.get('min-runs') ?? 5);
const MAX_MEMORY_GB = Number(args.get('max-memory-gb') ?? 12);
const STATEMENTS = !args.has('no-statements');
/** Only the issue 15 lines whose label contains this (e.g. `series`); the baseline always runs. */
const ONLY = args.get('only');
const EXTRAS = !args.has('no-extras');
const KEEP = args.has('keep');
/** "Now" for the time series and computed_at: 6 h after the last day of data, so a daily series has 31 points. */
const NOW_MS = BASE_MS + DATA_DAYS * DAY_MS + 6 * 3_600_000;

/** One line of the summary table: a request timed in-process and over HTTP. */
interface Line {
  label: string;
  targetMs: number | null;
  /** Null when the request failed (the error is printed; e.g. ClickHouse's memory limit). */
  inProcess: TimingSummary | null;
  http: TimingSummary | null;
  /** Bytes of the HTTP answer. */
  bytes: number;
  error?: string;
}

async function main(): Promise<void> {
  const { client, dataDir } = await openTempClickHouse('liftstream-stats-bench-');
  let http: Http | undefined;
  try {
    await migrate(client);
    // chDB keeps SET for the session: every query of this process, the stats app's included.
    await client.command({ query: `SET max_memory_usage = ${Math.round(MAX_MEMORY_GB * 2 ** 30)}` });
    const totalRows = UNITS * ROWS_PER_UNIT;
    console.log(
      `stats bench: ${fmt(UNITS)} units, ~${fmt(totalRows)} attributed rows, embedded chDB in ${dataDir} ` +
        `(max_memory_usage ${MAX_MEMORY_GB} GiB); load average ${loadAverage()}`,
    );
    const generation = performance.now();
    let t = performance.now();
    await loadExposures(client, UNITS);
    console.log(`  exposures loaded in ${sec(t)}`);
    t = performance.now();
    await loadAttributed(client, UNITS, totalRows);
    console.log(`  attributed loaded in ${sec(t)}`);
    t = performance.now();
    await loadCovariates(client, UNITS, UNITS);
    console.log(`  covariates (CUPED, ${fmt(UNITS)} pre-exposure rows) loaded in ${sec(t)}`);
    t = performance.now();
    await rebuildVariationMetrics(client, { truncate: false });
    console.log(`  variation_metrics built from attributed in ${sec(t)}`);
    t = performance.now();
    await settleMerges(client);
    console.log(`  background merges settled after ${sec(t)} (data ready after ${sec(generation)})`);
    for (const line of await describeTables(client)) console.log(`  ${line}`);

    const read = generateApiKey('read');
    const catalog = parseProjectCatalog(
      { projects: [{ id: PROJECT, keys: [read.entry], ...BENCH_ANALYSIS }] },
      'bench',
    );
    const project = catalog.project(PROJECT) as ProjectSettings;
    http = await startHttp(client, catalog, read.key);
    const lines: Line[] = [];

    const query: ResultsQuery = { project: PROJECT, experiment: EXPERIMENT, metric: 'purchase' };
    const first = await resultsOnce(client, query);
    console.log(
      `  answer: ${first.body.variations.map((v) => `${v.variation} n=${fmt(v.units)} conv=${fmt(v.conversions)}`).join(', ')}; ` +
        `multiple-exposure ${fmt(first.body.multiple_exposure_units)}; path ${first.path}`,
    );
    const baseline = await timeLine(
      { label: 'baseline: metric=purchase (issue 5, maintained sums)', targetMs: 300 },
      () => resultsOnce(client, query),
      http,
      `/v1/experiments/${EXPERIMENT}/results?metric=${query.metric}&control=control`,
    );
    lines.push(baseline);

    const points = await seriesPoints(client, NOW_MS);
    const requests = catalogueRequests(NOW_MS).filter((r) => ONLY === undefined || r.label.includes(ONLY));
    if (ONLY === undefined) await checkAnswers(requests, client, project);
    for (const request of requests) {
      const label = request.label.replace('daily series', `daily series (${points} points)`);
      lines.push(
        await timeLine({ ...request, label }, () => request.inProcess(client, project), http, request.path),
      );
    }
    console.log(
      `\n  ${fmt(UNITS)} units, ${fmt(totalRows)} attributed rows; load average ${loadAverage()}\n`,
    );
    printTable(lines);
    if (STATEMENTS) await printStatements(requests, client);
    await http.close();
    http = undefined;

    if (EXTRAS) await issue5Extras(client, query);
    console.log(
      `  RSS ${fmt(Math.round(rssMb()))} MiB now, peak ${fmt(Math.round(process.resourceUsage().maxRSS / 1024))} MiB ` +
        `(node + chDB); ClickHouse MemoryTracking ${fmt(Math.round((await memoryTracking(client)) / 2 ** 20))} MiB; ` +
        `load average ${loadAverage()}`,
    );
  } finally {
    await http?.close();
    await client.close();
    if (KEEP) console.log(`  data kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The stats app on a loopback port, built once on the same ClickHouse client and catalog; now pinned. */
interface Http {
  get: (path: string) => Promise<number>;
  close: () => Promise<void>;
}

async function startHttp(
  client: ClickHouseClient,
  catalog: ReturnType<typeof parseProjectCatalog>,
  key: string,
): Promise<Http> {
  const app: FastifyInstance = await buildStatsApp({
    config: STATS_CLIENT_LIMITS,
    catalog,
    clickhouse: client,
    logger: createLogger('stats-bench', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
    now: () => new Date(NOW_MS),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    /** One GET that must answer 200; the body's length in bytes. */
    async get(path: string): Promise<number> {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = await res.text();
      if (res.status !== 200)
        throw new Error(`stats answered ${res.status} to ${path}: ${body.slice(0, 300)}`);
      return Buffer.byteLength(body);
    },
    close: () => app.close(),
  };
}

/** A request timed in-process, then over HTTP, each line printed as it completes. */
async function timeLine(
  request: Pick<BenchRequest, 'label' | 'targetMs'>,
  inProcess: () => Promise<unknown>,
  http: Http,
  path: string,
): Promise<Line> {
  const options = { maxRuns: RUNS, minRuns: MIN_RUNS, budgetMs: BUDGET_MS };
  let local: TimingSummary | null = null;
  let bytes = 0;
  try {
    local = await timeWithin(options, inProcess);
    const remote = await timeWithin(options, async () => {
      bytes = await http.get(path);
    });
    console.log(
      `  ${request.label}: in-process ${summary(local)}; HTTP ${summary(remote)}, ${fmt(bytes)} bytes; ` +
        `peak RSS ${fmt(Math.round(Math.max(local.peakRssMb, remote.peakRssMb)))} MiB`,
    );
    return { label: request.label, targetMs: request.targetMs, inProcess: local, http: remote, bytes };
  } catch (err) {
    const error = `${(err as { type?: string }).type ?? 'error'}: ${(err as Error).message.slice(0, 200)}`;
    console.log(`  ${request.label}: FAILED (${local === null ? 'in-process' : 'over HTTP'}): ${error}`);
    return { label: request.label, targetMs: request.targetMs, inProcess: local, http: null, bytes, error };
  }
}

/** The parts of a metric results answer the checks read. */
interface MetricAnswer {
  metrics: {
    metric: string;
    cap_value: number | null;
    variations: { variation: string; conversions: number; sum: number; estimate: number | null }[];
  }[];
  values?: { value: string; units: { units: number }[] }[];
}

/**
 * A few figures of the answers (caps, estimates, dimension values), and two checks that stop the bench: the
 * joined path (5 metrics) and the projected one (the same without the window) give the same sums for the
 * metrics they share, and the windowed conversion counts some units (a join matching no unit gives zeros).
 */
async function checkAnswers(
  requests: readonly BenchRequest[],
  client: ClickHouseClient,
  project: ProjectSettings,
): Promise<void> {
  const [joined, projected, byCountry] = (await Promise.all(
    requests.slice(0, 3).map((r) => r.inProcess(client, project)),
  )) as MetricAnswer[];
  if (joined === undefined || projected === undefined || byCountry === undefined)
    throw new Error('no answer');
  console.log(
    `  5 metrics, control: ${joined.metrics
      .map(
        (m) =>
          `${m.metric} ${m.variations[0]?.estimate?.toPrecision(4)}${m.cap_value === null ? '' : ` (cap ${m.cap_value.toPrecision(6)})`}`,
      )
      .join(', ')}`,
  );
  let worst = 0;
  for (const m of joined.metrics) {
    const other = projected.metrics.find((o) => o.metric === m.metric);
    if (other === undefined) continue;
    for (const v of m.variations) {
      const w = other.variations.find((o) => o.variation === v.variation);
      const diff = w === undefined ? Infinity : Math.abs(v.sum - w.sum) / Math.max(1, Math.abs(w.sum));
      worst = Math.max(worst, diff, v.conversions === w?.conversions ? 0 : Infinity);
    }
  }
  const windowed = joined.metrics[0]?.variations.reduce((n, v) => n + v.conversions, 0) ?? 0;
  console.log(
    `  joined vs projected path, shared metrics: max relative difference ${worst.toExponential(2)}; ` +
      `windowed conversions ${fmt(windowed)}`,
  );
  if (!(worst < 1e-9) || windowed === 0) throw new Error('the joined and projected paths disagree');
  console.log(
    `  by country: ${byCountry.values?.length} values: ${byCountry.values
      ?.map((v) => `${v.value} ${fmt(v.units.reduce((n, u) => n + u.units, 0))}`)
      .join(', ')}`,
  );
}

/** Each request's ClickHouse statements timed alone (median of up to 5 runs): where the time goes. */
async function printStatements(requests: readonly BenchRequest[], client: ClickHouseClient): Promise<void> {
  console.log(`\n  where the time goes (each statement alone, in-process, median of up to 5 runs):`);
  for (const request of requests) {
    const parts: string[] = [];
    try {
      for (const statement of await request.statements(client)) {
        const timing = await timeWithin({ maxRuns: 5, minRuns: 3, budgetMs: BUDGET_MS / 2 }, statement.run);
        parts.push(
          `${statement.name} ${ms(timing.medianMs)} (peak RSS ${fmt(Math.round(timing.peakRssMb))} MiB)`,
        );
      }
    } catch (err) {
      parts.push(`FAILED: ${(err as Error).message.slice(0, 200)}`);
    }
    console.log(`  ${request.label}: ${parts.join('; ')}`);
  }
  console.log('');
}

/** The summary table (markdown, pasted into bench/RESULTS.md); verdicts on the HTTP median. */
function printTable(lines: readonly Line[]): void {
  const header = [
    'request',
    'in-process median / p95 / min',
    'HTTP median / p95 / min',
    'runs',
    'target (median)',
    'verdict (HTTP median)',
  ];
  const rows = lines.map((l) => [
    l.label,
    l.inProcess === null ? 'failed' : triple(l.inProcess),
    l.http === null ? 'failed' : triple(l.http),
    `${l.inProcess?.runs ?? 0} / ${l.http?.runs ?? 0}`,
    l.targetMs === null ? '(reference)' : `< ${l.targetMs} ms`,
    l.targetMs === null
      ? ''
      : l.http === null
        ? `**MISSED** (${l.error?.split(':')[0]})`
        : l.http.medianMs < l.targetMs
          ? 'MET'
          : '**MISSED**',
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log('');
}

/** Issue 5's slower lines: sink-sized inserts, a from/to window, the join fallback, the sink's restore. */
async function issue5Extras(client: ClickHouseClient, query: ResultsQuery): Promise<void> {
  // A running sink adds one small insert per chunk (each a part until merges catch up): add 2,000
  // zero-change inserts, as many as ~4 minutes of a sink flushing every second on 8 partitions.
  let t = performance.now();
  await addSmallInserts(client, 2_000);
  const parts = await activeParts(client, 'variation_metrics');
  const manyParts = await timeRuns(RUNS, () => resultsOnce(client, query));
  console.log(
    `  after 2,000 sink-sized inserts into variation_metrics (${sec(t)}; ${parts} active parts right after): ` +
      `median ${ms(percentile(manyParts, 0.5))}, p90 ${ms(percentile(manyParts, 0.9))}`,
  );
  const windowQuery = { ...query, from: BASE_MS + 2 * DAY_MS, to: BASE_MS + 9 * DAY_MS };
  const windowTimes = await timeRuns(Math.min(RUNS, 5), () => resultsOnce(client, windowQuery));
  console.log(
    `  with a from/to window (per unit, raw rows), ${windowTimes.length} runs: median ${ms(percentile(windowTimes, 0.5))}`,
  );
  const agreement = await compareSums(client, query);
  console.log(
    `  maintained sums vs per-unit recomputation: max relative difference ${agreement.toExponential(2)}`,
  );
  const perUnitTimes = await timeRuns(Math.min(RUNS, 5), () => queryMetricSums(client, query, 'per-unit'));
  console.log(
    `  per-unit sums from the per_unit projection (no window), ${perUnitTimes.length} runs: median ${ms(percentile(perUnitTimes, 0.5))}`,
  );
  const joinedTimes = await timeRuns(Math.min(RUNS, 3), () => queryMetricSums(client, query, 'joined'));
  console.log(
    `  joined on live assignments (tables disagree), ${joinedTimes.length} runs: median ${ms(percentile(joinedTimes, 0.5))}`,
  );
  t = performance.now();
  const restored = await restoreUnitTotals(client, 0);
  console.log(`  sink restore of partition 0 of 8: ${fmt(restored.length)} unit totals in ${sec(t)}`);
}

async function memoryTracking(client: ClickHouseClient): Promise<number> {
  const [row] = await (
    await client.query({
      query: "SELECT toFloat64(value) AS v FROM system.metrics WHERE metric = 'MemoryTracking'",
      format: 'JSONEachRow',
    })
  ).json<{ v: number }>();
  return Number(row?.v ?? 0);
}

async function resultsOnce(client: ClickHouseClient, query: ResultsQuery) {
  const aggregates = await loadResultsAggregates(client, query);
  if (aggregates.kind !== 'ok') throw new Error(`unexpected ${aggregates.kind}`);
  const outcome = computeResults({ variations: aggregates.variations, control: 'control' });
  if (!outcome.ok) throw new Error(outcome.error.message);
  const body = toResultsBody({
    experiment: query.experiment,
    metric: query.metric,
    computedAt: new Date(),
    multipleExposureUnits: aggregates.multipleExposureUnits,
    results: outcome.value,
  });
  return { body, path: aggregates.path };
}

/** Zero-change rows in `count` separate inserts, as a sink's per-chunk inserts (results unchanged). */
async function addSmallInserts(client: ClickHouseClient, count: number): Promise<void> {
  const offset = 1e12;
  for (let i = 0; i < count; i++) {
    await client.insert({
      table: 'variation_metrics',
      format: 'JSONEachRow',
      values: ['control', 'a', 'b'].map((variation) => ({
        project: 'bench',
        experiment: 'checkout',
        event: 'purchase',
        variation,
        conversions: 0,
        sum_value: 0,
        sum_value_sq: 0,
        sum_count: 0,
        sum_count_sq: 0,
        src_partition: i % 8,
        src_offset: offset + i,
      })),
    });
  }
}

async function activeParts(client: ClickHouseClient, table: string): Promise<number> {
  const [row] = await (
    await client.query({
      query:
        'SELECT toFloat64(count()) AS n FROM system.parts WHERE active AND database = currentDatabase() AND table = {table:String}',
      query_params: { table },
      format: 'JSONEachRow',
    })
  ).json<{ n: number }>();
  return Number(row?.n);
}

/** Largest relative difference between the maintained per-variation sums and a per-unit recomputation. */
async function compareSums(client: ClickHouseClient, query: ResultsQuery): Promise<number> {
  const [incremental, perUnit] = await Promise.all([
    queryMetricSums(client, query, 'incremental'),
    queryMetricSums(client, query, 'per-unit'),
  ]);
  let worst = 0;
  for (const a of incremental) {
    const b = perUnit.find((r) => r.variation === a.variation);
    if (b === undefined) return Number.POSITIVE_INFINITY;
    for (const field of ['conversions', 'sumValue', 'sumValueSq', 'sumCount', 'sumCountSq'] as const) {
      worst = Math.max(worst, Math.abs(a[field] - b[field]) / Math.max(1, Math.abs(b[field])));
    }
  }
  return worst;
}

function summary(t: TimingSummary): string {
  return `${t.runs} runs: median ${ms(t.medianMs)}, p95 ${ms(t.p95Ms)}, min ${ms(t.minMs)}, max ${ms(t.maxMs)}`;
}
function triple(t: TimingSummary): string {
  return `${ms(t.medianMs)} / ${ms(t.p95Ms)} / ${ms(t.minMs)}`;
}
function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
function ms(x: number): string {
  return `${x.toFixed(0)} ms`;
}
function sec(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}
function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
