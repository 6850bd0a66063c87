/**
 * A migrated ClickHouse for one test file (embedded chDB in a temp dir, or CLICKHOUSE_URL), and a way to
 * store a signed changelog in it the way the sink does: same row mapping, the same incremental
 * per-variation changes (variation-deltas.ts) written before the rows, Kafka positions made up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouse } from '../../../shared/clickhouse/clickhouse-client.ts';
import type { ClickHouseConfig } from '../../../shared/config/common-config.ts';
import { migrate } from '../../../shared/clickhouse/migrations.ts';
import { toAttributedRow, toExposureRow } from '../../../services/sink/src/sink-rows.ts';
import type { AttributedRow, SinkRow } from '../../../services/sink/src/sink-rows.ts';
import { planChunk, UnitTotalsStore } from '../../../services/sink/src/variation-deltas.ts';
import type { Changelog } from './signed-rows-scenario.ts';

export interface ClickHouseFixture {
  client: ClickHouseClient;
  config: ClickHouseConfig;
  /** Stores a changelog in inserts of `rowsPerInsert` rows (several parts, as a sink would leave them). */
  store(changelog: Changelog, opts?: { rowsPerInsert?: number; firstOffset?: number }): Promise<void>;
  /** Drops the database, closes the client, removes the data dir. */
  close(): Promise<void>;
}

export async function openClickHouse(url: string | undefined, name: string): Promise<ClickHouseFixture> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `liftstream-${name}-`));
  const config: ClickHouseConfig = {
    url,
    user: 'default',
    password: '',
    database: `t_${name.replace(/[^a-zA-Z0-9_]/g, '_')}_${process.pid}`,
    dataDir,
  };
  const client = await createClickHouse(config);
  await migrate(client);
  const totals = new UnitTotalsStore();
  return {
    client,
    config,
    store: (changelog, opts) => storeChangelog(client, totals, changelog, opts),
    async close() {
      await client.command({ query: `DROP DATABASE IF EXISTS ${config.database}` }).catch(() => undefined);
      await client.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function storeChangelog(
  client: ClickHouseClient,
  totals: UnitTotalsStore,
  changelog: Changelog,
  opts: { rowsPerInsert?: number; firstOffset?: number } = {},
): Promise<void> {
  const size = opts.rowsPerInsert ?? 500;
  let offset = opts.firstOffset ?? 0;
  const exposures = changelog.exposures.map((r) =>
    unwrap(toExposureRow(r, { partition: 0, offset: offset++ })),
  );
  const attributed = changelog.attributed.map(
    (r) => unwrap(toAttributedRow(r, { partition: 0, offset: offset++ })) as AttributedRow,
  );
  for (let i = 0; i < exposures.length; i += size) {
    await client.insert({ table: 'exposures', values: exposures.slice(i, i + size), format: 'JSONEachRow' });
  }
  for (let i = 0; i < attributed.length; i += size) {
    const chunk = attributed.slice(i, i + size);
    const plan = planChunk(totals.lookup(0), chunk, -1);
    await client.insert({ table: 'variation_metrics', values: plan.deltas, format: 'JSONEachRow' });
    await client.insert({ table: 'attributed', values: chunk, format: 'JSONEachRow' });
    totals.commit(0, plan);
  }
}

function unwrap(read: { ok: true; row: SinkRow } | { ok: false; reason: string }): SinkRow {
  if (!read.ok) throw new Error(`fixture row refused: ${read.reason}`);
  return read.row;
}
