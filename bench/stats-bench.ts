/**
 * Stats benchmark (not a test): the results endpoint over embedded ClickHouse (chDB), no broker. Timed
 * twice in the same run: in-process (the query path alone) and over HTTP (the real stats app on a
 * loopback port, a fetch per request: routing, auth, serialisation and the socket included).
 *
 *   npx tsx bench/stats-bench.ts                      # 1,000,000 units, 5,000,000 attributed rows
 *   npx tsx bench/stats-bench.ts --units=10000000     # 10x (rows scale with units)
 *   options: --rows-per-unit=5 --runs=20 --keep (keep the data dir and print it)
 *
 * Data (generated inside ClickHouse with INSERT ... SELECT FROM numbers(), in sink-sized inserts so
 * parts and projections are built as the sink builds them): one experiment, 3 arms, unit ids are UUID
 * strings. 1% of units end multiple-exposure (asserted analysed, retracted, re-asserted flagged); 2% were
 * first assigned to another arm (asserted, retracted). Attributed rows: 60% of analysed units have events
 * (~8 each), 80% of rows are the metric `purchase`, the rest `view`; sampling weights 1-4, 25% without a
 * value; 2% of events asserted and retracted. `variation_metrics` is then built from `attributed` in one
 * statement (the bulk-load path; the running sink maintains it per insert, which the sink tests check
 * against the same truth). Timed: `loadResultsAggregates` + `computeResults` + `toResultsBody`, exactly what
 * GET /v1/experiments/:experiment/results runs, after background merges settle, then the same request over
 * HTTP to the stats app built on the same ClickHouse client; also the per-unit paths
 * (a time window, and the join used when tables disagree) and the sink's restore of one partition.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '../shared/logging/logger.ts';
import { generateApiKey } from '../shared/projects/api-key.ts';
import { parseProjectCatalog } from '../shared/projects/project-catalog.ts';
import { buildStatsApp } from '../services/stats/src/app.ts';
import { STATS_CLIENT_LIMITS } from '../services/stats/src/config.ts';
import { createStatsMetrics } from '../services/stats/src/stats-metrics.ts';
import { createClickHouse } from '../shared/clickhouse/clickhouse-client.ts';
import { migrate } from '../shared/clickhouse/migrations.ts';
import { rebuildVariationMetrics, restoreUnitTotals } from '../services/sink/src/sink-clickhouse.ts';
import { toResultsBody } from '../services/stats/src/http/results-response.ts';
import { computeResults } from '../services/stats/src/math/experiment-results.ts';
import { loadResultsAggregates, queryMetricSums } from '../services/stats/src/storage/results-query.ts';
import type { ResultsQuery } from '../services/stats/src/storage/results-query.ts';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k as string, v ?? 'true'];
  }),
);
const UNITS = Number(args.get('units') ?? 1_000_000);
const ROWS_PER_UNIT = Number(args.get('rows-per-unit') ?? 5);
const RUNS = Number(args.get('runs') ?? 20);
const KEEP = args.has('keep');
const INSERT_ROWS = 500_000;
const DAY_MS = 86_400_000;
const BASE_MS = Date.UTC(2026, 0, 1);

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-stats-bench-'));
  const client = await createClickHouse({
    url: undefined,
    user: 'default',
    password: '',
    database: 'bench',
    dataDir,
  });
  try {
    await migrate(client);
    const totalRows = UNITS * ROWS_PER_UNIT;
    console.log(
      `stats bench: ${fmt(UNITS)} units, ~${fmt(totalRows)} attributed rows, embedded chDB in ${dataDir}`,
    );
    let t = performance.now();
    await loadExposures(client);
    console.log(`  exposures loaded in ${sec(t)}`);
    t = performance.now();
    await loadAttributed(client, totalRows);
    console.log(`  attributed loaded in ${sec(t)}`);
    t = performance.now();
    await rebuildVariationMetrics(client, { truncate: false });
    console.log(`  variation_metrics built from attributed in ${sec(t)}`);
    t = performance.now();
    await settleMerges(client);
    console.log(`  background merges settled after ${sec(t)}`);
    await describeTables(client);

    const query: ResultsQuery = { project: 'bench', experiment: 'checkout', metric: 'purchase' };
    const first = await resultsOnce(client, query);
    console.log(
      `  answer: ${first.body.variations.map((v) => `${v.variation} n=${fmt(v.units)} conv=${fmt(v.conversions)}`).join(', ')}; ` +
        `multiple-exposure ${fmt(first.body.multiple_exposure_units)}; path ${first.path}`,
    );
    const times = await timeRuns(RUNS, () => resultsOnce(client, query));
    console.log(
      `  results query path in-process, ${RUNS} runs: median ${ms(percentile(times, 0.5))}, p90 ${ms(percentile(times, 0.9))}, min ${ms(times[0] as number)}, max ${ms(times[times.length - 1] as number)}`,
    );
    const httpTimes = await overHttp(client, query);
    console.log(
      `  GET /v1/experiments/checkout/results over HTTP (loopback, the stats app), ${RUNS} runs: median ${ms(percentile(httpTimes, 0.5))}, p90 ${ms(percentile(httpTimes, 0.9))}, min ${ms(httpTimes[0] as number)}, max ${ms(httpTimes[httpTimes.length - 1] as number)}`,
    );
    // A running sink adds one small insert per chunk (each a part until merges catch up): add 2,000
    // zero-change inserts, as many as ~4 minutes of a sink flushing every second on 8 partitions.
    t = performance.now();
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
    console.log(
      `  RSS ${fmt(Math.round(process.memoryUsage().rss / 1024 / 1024))} MiB (node + chDB), load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await client.close();
    if (KEEP) console.log(`  data kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The same request through the stats app on a loopback port: each run a fetch that must answer 200. */
async function overHttp(client: ClickHouseClient, query: ResultsQuery): Promise<number[]> {
  const read = generateApiKey('read');
  const app = await buildStatsApp({
    config: STATS_CLIENT_LIMITS,
    catalog: parseProjectCatalog({ projects: [{ id: query.project, keys: [read.entry] }] }, 'bench'),
    clickhouse: client,
    logger: createLogger('stats-bench', 'silent'),
    metrics: createStatsMetrics({ defaults: false }),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const path = `/v1/experiments/${query.experiment}/results?metric=${query.metric}&control=control`;
    return await timeRuns(RUNS, async () => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${read.key}` } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`stats answered ${res.status}: ${body.slice(0, 300)}`);
    });
  } finally {
    await app.close();
  }
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

/** Per unit u: its final row, plus the retracted detours of 1% (multiple-exposure) and 2% (arm change). */
async function loadExposures(client: ClickHouseClient): Promise<void> {
  for (let start = 0; start < UNITS; start += INSERT_ROWS) {
    const count = Math.min(INSERT_ROWS, UNITS - start);
    await client.command({
      query: `
        INSERT INTO exposures
        SELECT 'bench', 'checkout', unit, r.1, r.2, r.3, r.4, toUInt32(cityHash64(unit) % 8), number
        FROM (
          SELECT number, ${unitId('number')} AS unit, ${arm('number')} AS arm,
                 toDateTime64(${BASE_MS / 1000} + (number * 37) % (14 * 86400), 3, 'UTC') AS fe,
                 arrayJoin(
                   multiIf(
                     number % 100 = 7, [(arm, fe, false, 1), (arm, fe, false, -1), (arm, fe, true, 1)],
                     number % 50 = 3, [(${otherArm('number')}, fe + 60, false, 1), (${otherArm('number')}, fe + 60, false, -1), (arm, fe, false, 1)],
                     [(arm, fe, false, 1)]
                   )
                 ) AS r
          FROM numbers(${start}, ${count})
        )`,
    });
  }
}

/** ~rows attributed rows over 60% of analysed units; 2% of events asserted then retracted. */
async function loadAttributed(client: ClickHouseClient, rows: number): Promise<void> {
  const base = Math.round(rows / 1.02);
  const converting = Math.max(1, Math.floor(UNITS * 0.6));
  for (let start = 0; start < base; start += INSERT_ROWS) {
    const count = Math.min(INSERT_ROWS, base - start);
    await client.command({
      query: `
        INSERT INTO attributed
        SELECT 'bench', 'checkout', ${unitId('u')}, ${arm('u')}, toString(number),
               if(number % 5 = 0, 'view', 'purchase'),
               toDateTime64(${BASE_MS / 1000} + (u * 37) % (14 * 86400) + number % (7 * 86400), 3, 'UTC'),
               [1., 1., 1., 2., 4.][number % 5 + 1],
               if(number % 4 = 0, NULL, (number % 10000) / 100),
               s, toUInt32(cityHash64(${unitId('u')}) % 8), number
        FROM (
          SELECT number, if(h % 100 = 7, h - 1, h) AS u, arrayJoin(if(number % 50 = 0, [1, -1], [1])) AS s
          FROM (SELECT number, cityHash64(number) % ${converting} AS h FROM numbers(${start}, ${count}))
        )`,
    });
  }
}

function unitId(n: string): string {
  return `UUIDNumToString(sipHash128(${n}))`;
}
function arm(n: string): string {
  return `['control', 'a', 'b'][${n} % 3 + 1]`;
}
function otherArm(n: string): string {
  return `['a', 'b', 'control'][${n} % 3 + 1]`;
}

/** Waits until no merge has run for 3 s (bounded at 3 minutes): the steady state a running sink reaches. */
async function settleMerges(client: ClickHouseClient): Promise<void> {
  const deadline = Date.now() + 180_000;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const [row] = await (
      await client.query({
        query: 'SELECT toFloat64(count()) AS n FROM system.merges',
        format: 'JSONEachRow',
      })
    ).json<{ n: number }>();
    if (Number(row?.n) > 0) quietSince = Date.now();
    else if (Date.now() - quietSince > 3_000) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function describeTables(client: ClickHouseClient): Promise<void> {
  const rows = await (
    await client.query({
      query: `SELECT table, toFloat64(count()) AS parts, toFloat64(sum(rows)) AS rows,
                     toFloat64(sum(bytes_on_disk)) AS bytes
              FROM system.parts WHERE active AND database = currentDatabase()
                AND table IN ('exposures', 'attributed', 'variation_metrics')
              GROUP BY table ORDER BY table`,
      format: 'JSONEachRow',
    })
  ).json<{ table: string; parts: number; rows: number; bytes: number }>();
  const projections = await (
    await client.query({
      query: `SELECT table, name, toFloat64(sum(rows)) AS rows FROM system.projection_parts
              WHERE active AND database = currentDatabase() GROUP BY table, name ORDER BY table, name`,
      format: 'JSONEachRow',
    })
  ).json<{ table: string; name: string; rows: number }>();
  for (const r of rows) {
    const proj = projections
      .filter((p) => p.table === r.table)
      .map((p) => `${p.name} ${fmt(Number(p.rows))} rows`)
      .join(', ');
    console.log(
      `  ${r.table}: ${fmt(Number(r.rows))} rows in ${r.parts} parts, ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB; projections: ${proj}`,
    );
  }
}

async function timeRuns(runs: number, run: () => Promise<unknown>): Promise<number[]> {
  await run(); // warm-up: caches of marks and the first projection read
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
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
