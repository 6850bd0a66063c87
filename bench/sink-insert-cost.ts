/**
 * What one sink insert round costs in embedded ClickHouse (issue 19; not a test): the sink's tables as the
 * migrations make them, beside copies that also build the `offsets` projection the sink's tables had before
 * migrations 0008–0011 (the previous code path), inserted into alternately, round after round, so both
 * sides see the same background merges and the same machine:
 *
 *   npx tsx bench/sink-insert-cost.ts [--rounds 60] [--rows 1,1000] [--scan-rows 20000000]
 *
 * A round is what the sink writes for one insert round: `rows` exposure rows, `rows` attributed rows and
 * rows/8 per-variation changes, one insert per table with a deduplication token, one after the other (as
 * services/sink/src/sink-inserts.ts does). Printed per side: rounds per second and round time percentiles;
 * then, for both sides together (one process cannot split its CPU between them), CPU per round and the
 * resident memory. Then the lookup the projection served: the highest stored offset of 8 partitions
 * after an assignment (services/sink/src/sink-clickhouse.ts storedOffsets), over --scan-rows rows, with
 * and without the projection.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { migrate } from '../shared/clickhouse/migrations.ts';
import { percentile } from './lib/paced-load.ts';
import { cpuSeconds, rssMb } from './lib/process-stats.ts';
import { openTempClickHouse } from './lib/temp-clickhouse.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '60' },
    rows: { type: 'string', default: '1,1000' },
    'scan-rows': { type: 'string', default: '20000000' },
  },
});
const ROUNDS = Number(args.rounds);
const ROW_COUNTS = (args.rows as string).split(',').map(Number);
const SCAN_ROWS = Number(args['scan-rows']);
if (!(ROUNDS > 0) || ROW_COUNTS.some((n) => !(n > 0)) || !(SCAN_ROWS >= 0))
  throw new Error('--rounds and --rows must be positive, --scan-rows >= 0');

const TABLES = ['exposures', 'attributed', 'variation_metrics'] as const;
type Table = (typeof TABLES)[number];
const OFFSETS_PROJECTION =
  'PROJECTION offsets (SELECT src_partition, max(src_offset) GROUP BY src_partition)';

let offset = 0;
function rowsOf(table: Table, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const o = offset + i;
    const base = {
      project: 'bench',
      experiment: `e${i % 3}`,
      variation: i % 2 === 0 ? 'control' : 'treatment',
      sign: 1,
      src_partition: i % 8,
      src_offset: o,
    };
    if (table === 'exposures')
      return {
        ...base,
        unit: `u-${o}`,
        first_exposure_at: '2026-12-06 10:00:00.000',
        multiple_exposure: false,
      };
    if (table === 'attributed')
      return {
        ...base,
        unit: `u-${o}`,
        event_id: `ev-${o}`,
        event: 'purchase',
        timestamp: '2026-12-06 10:00:01.000',
        weight: 1,
        value: 12.5,
      };
    return {
      ...base,
      event: 'purchase',
      conversions: 1,
      sum_value: 12.5,
      sum_value_sq: 156.25,
      sum_count: 1,
      sum_count_sq: 1,
    };
  });
}

async function round(ch: ClickHouseClient, suffix: string, rows: number, n: number): Promise<number> {
  const started = performance.now();
  for (const table of TABLES) {
    const count = table === 'variation_metrics' ? Math.max(1, Math.round(rows / 8)) : rows;
    await ch.insert({
      table: `${table}${suffix}`,
      values: rowsOf(table, count),
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplicate: 1,
        insert_deduplication_token: `bench${suffix}:${rows}:${n}:${table}`,
      },
    });
  }
  offset += rows;
  return performance.now() - started;
}

const sorted = (ms: readonly number[]): number[] => [...ms].sort((a, b) => a - b);
const line = (label: string, times: number[]): string => {
  const ms = sorted(times);
  const total = ms.reduce((a, b) => a + b, 0);
  return (
    `  ${label.padEnd(44)} ${(ms.length / (total / 1000)).toFixed(1).padStart(6)} rounds/s, round p50 ` +
    `${percentile(ms, 0.5).toFixed(1)} ms, p90 ${percentile(ms, 0.9).toFixed(1)}, p99 ${percentile(ms, 0.99).toFixed(1)}`
  );
};

const { client: ch, dataDir } = await openTempClickHouse('liftstream-insert-cost-');
try {
  await migrate(ch);
  for (const table of TABLES) {
    await ch.command({ query: `CREATE TABLE ${table}_with_offsets AS ${table}` });
    await ch.command({ query: `ALTER TABLE ${table}_with_offsets ADD ${OFFSETS_PROJECTION}` });
  }
  console.log(
    `sink insert rounds, embedded ClickHouse; ${ROUNDS} rounds per side and size, sides alternating; ` +
      `${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1)}`,
  );
  for (const rows of ROW_COUNTS) {
    const now: number[] = [];
    const before: number[] = [];
    const cpu0 = cpuSeconds(process.pid);
    for (let n = 0; n < ROUNDS; n++) {
      // Alternate which side goes first, so neither always follows the other's merges.
      if (n % 2 === 0) {
        now.push(await round(ch, '', rows, n));
        before.push(await round(ch, '_with_offsets', rows, n));
      } else {
        before.push(await round(ch, '_with_offsets', rows, n));
        now.push(await round(ch, '', rows, n));
      }
    }
    const cpuPerRound = ((cpuSeconds(process.pid) - cpu0) * 1000) / (2 * ROUNDS);
    console.log(
      `rounds of ${rows} exposure + ${rows} attributed + ${Math.max(1, Math.round(rows / 8))} per-variation rows:`,
    );
    console.log(line('without the offsets projection (now)', now));
    console.log(line('with it (before migrations 0008-0011)', before));
    console.log(
      `  ratio of p50: ${(percentile(sorted(now), 0.5) / percentile(sorted(before), 0.5)).toFixed(2)}x; process CPU ` +
        `${cpuPerRound.toFixed(1)} ms per round (both sides), RSS ${rssMb(process.pid).toFixed(0)} MB`,
    );
  }
  if (SCAN_ROWS > 0) {
    const load = performance.now();
    for (const suffix of ['', '_with_offsets']) {
      await ch.command({
        query:
          `INSERT INTO attributed${suffix} SELECT 'bench', concat('e', toString(number % 20)), ` +
          `concat('u', toString(number % 1000000)), if(number % 2 = 0, 'control', 'treatment'), ` +
          `concat('ev', toString(number)), 'purchase', now64(3), 1, 2.5, 1, number % 8, ` +
          `${offset} + intDiv(number, 8) FROM numbers(${SCAN_ROWS})`,
      });
    }
    console.log(
      `stored offsets after an assignment (${SCAN_ROWS} rows loaded per side in ${((performance.now() - load) / 1000).toFixed(0)} s):`,
    );
    for (const suffix of ['', '_with_offsets']) {
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const started = performance.now();
        await (
          await ch.query({
            query: `SELECT src_partition, max(src_offset) FROM attributed${suffix} WHERE src_partition IN [0,1,2,3,4,5,6,7] GROUP BY src_partition`,
            format: 'JSONEachRow',
          })
        ).json();
        times.push(performance.now() - started);
      }
      const ms = sorted(times);
      console.log(
        `  ${suffix === '' ? 'a scan (now)' : 'the offsets projection (before)'}: p50 ${percentile(ms, 0.5).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`,
      );
    }
  }
} finally {
  await ch.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
