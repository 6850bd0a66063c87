import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClickHouse } from '../../../shared/clickhouse/clickhouse-client.ts';
import { migrate } from '../../../shared/clickhouse/migrations.ts';

describe('ClickHouse migrations (embedded chDB or CLICKHOUSE_URL)', () => {
  let client: ClickHouseClient;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-ch-'));
  const database = `t_${process.pid}`;

  beforeAll(async () => {
    client = await createClickHouse({
      url: inject('clickhouseUrl'),
      user: 'default',
      password: '',
      database,
      dataDir,
    });
  });
  afterAll(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('applies every migration once and is a no-op the second time', async () => {
    const first = await migrate(client);
    expect(first.length, 'all migrations applied on an empty database').toBeGreaterThanOrEqual(2);
    expect(await migrate(client), 'nothing left to apply').toEqual([]);
  });

  it('keeps the aggregate projections reads use and drops the offsets ones inserts paid for', async () => {
    const projections = async (table: string) => {
      const rows = await (
        await client.query({ query: `SHOW CREATE TABLE ${table}`, format: 'JSONEachRow' })
      ).json<{ statement: string }>();
      return [...(rows[0]?.statement ?? '').matchAll(/PROJECTION (\w+)/g)].map((m) => m[1]);
    };
    expect(await projections('exposures')).toEqual(['per_variation']);
    expect(await projections('attributed')).toEqual(['per_unit']);
    expect(await projections('variation_metrics')).toEqual(['per_variation']);
    expect(await projections('covariates')).toEqual([]);
  });

  /** The fields every table's row starts with. */
  const unitFields = { project: 'p', experiment: 'e', unit: 'u1', variation: 'control' };

  it('gives exposures a dimensions map, empty for rows written without one', async () => {
    const row = {
      ...unitFields,
      first_exposure_at: '2026-01-01 00:00:00.000',
      multiple_exposure: false,
      sign: 1,
      src_partition: 0,
      src_offset: 1,
    };
    await client.insert({
      table: 'exposures',
      format: 'JSONEachRow',
      values: [row, { ...row, unit: 'u2', dimensions: { country: 'DE', seats: '3' }, src_offset: 2 }],
    });
    const rows = await (
      await client.query({
        query:
          "SELECT unit, dimensions['country'] AS country, length(dimensions) AS n FROM exposures ORDER BY unit",
        format: 'JSONEachRow',
      })
    ).json<{ unit: string; country: string; n: string | number }>();
    expect(rows.map((r) => [r.unit, r.country, Number(r.n)])).toEqual([
      ['u1', '', 0],
      ['u2', 'DE', 2],
    ]);
  });

  it('the per_unit projection sums signed rows so a retraction cancels its assertion exactly', async () => {
    const row = {
      ...unitFields,
      event_id: 'ev1',
      event: 'purchase',
      timestamp: '2026-01-01 00:00:00.000',
      weight: 2,
      value: 10.5,
      sign: 1,
      src_partition: 0,
      src_offset: 1,
    };
    await client.insert({
      table: 'attributed',
      format: 'JSONEachRow',
      values: [row, { ...row, event_id: 'ev2', src_offset: 2 }],
    });
    await client.insert({
      table: 'attributed',
      format: 'JSONEachRow',
      values: [{ ...row, sign: -1, src_offset: 3 }],
    });
    const perUnit =
      // Aliases differ from column names: a ClickHouse alias is visible in the whole query and would shadow them.
      'SELECT variation AS arm, toFloat64(sum(sign)) AS events, sum(sign * weight) AS k, ' +
      'sum(sign * weight * coalesce(value, 0)) AS x FROM attributed ' +
      'WHERE project = {p:String} AND experiment = {e:String} AND event = {m:String} GROUP BY unit, variation';
    const params = { p: 'p', e: 'e', m: 'purchase' };
    const rows = await (
      await client.query({ query: perUnit, query_params: params, format: 'JSONEachRow' })
    ).json<{ arm: string; events: number; k: number; x: number }>();
    expect(rows, 'one live event of weight 2 and value 10.5 remains').toEqual([
      { arm: 'control', events: 1, k: 2, x: 21 },
    ]);
    const plan = await (
      await client.query({
        query: `EXPLAIN projections = 1 ${perUnit}`,
        query_params: params,
        format: 'JSONEachRow',
      })
    ).json<{ explain: string }>();
    expect(
      plan.map((r) => r.explain).join('\n'),
      'the per-unit query reads the per_unit projection, not the rows',
    ).toContain('ReadFromMergeTree (per_unit)');
  });
});
