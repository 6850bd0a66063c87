/**
 * Percentile caps use ClickHouse's quantileExactInclusive because it is numpy's default (`linear`)
 * quantile: the expected values come from numpy itself (scripts/fixtures/gen-metric-fixtures.py). The
 * other exact quantile functions are checked to differ on the same fixtures, so the fixtures can tell
 * them apart (a fixture set every function passes would prove nothing).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openClickHouse } from '../../../helpers/stats/clickhouse-fixture.ts';
import type { ClickHouseFixture } from '../../../helpers/stats/clickhouse-fixture.ts';
import { metricFixtures } from '../../../helpers/metric-fixtures.ts';

let ch: ClickHouseFixture;
beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'quantiles');
});
afterAll(async () => {
  await ch?.close();
});

async function quantile(fn: string, values: readonly number[], p: number): Promise<number> {
  const result = await ch.client.query({
    query: `SELECT ${fn}({p:Float64})(x) AS q FROM (SELECT arrayJoin({values:Array(Float64)}) AS x)`,
    query_params: { p, values: [...values] },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ q: number | string }>();
  return Number(row?.q);
}

describe('ClickHouse quantile against numpy.quantile (linear)', () => {
  it('quantileExactInclusive equals numpy to 1e-12 relative on every fixture', async () => {
    const cases = metricFixtures.quantiles.flatMap((f) =>
      f.cases.map((c) => ({ ...c, values: f.values, name: f.name })),
    );
    expect(cases.length, 'quantile fixture cases').toBeGreaterThanOrEqual(60);
    for (const c of cases) {
      const q = await quantile('quantileExactInclusive', c.values, c.p);
      expect(Math.abs(q - c.expected), `${c.name} p=${c.p}: ${q} vs numpy ${c.expected}`).toBeLessThanOrEqual(
        Math.abs(c.expected) * 1e-12,
      );
    }
  });

  it('quantileExactExclusive and quantileExact do not (the fixtures discriminate)', async () => {
    for (const fn of ['quantileExactExclusive', 'quantileExact']) {
      let differing = 0;
      for (const f of metricFixtures.quantiles) {
        for (const c of f.cases) {
          if (f.values.length < 3) continue;
          const q = await quantile(fn, f.values, c.p);
          if (!(Math.abs(q - c.expected) <= Math.abs(c.expected) * 1e-12)) differing++;
        }
      }
      expect(differing, `${fn} differs from numpy on some fixtures`).toBeGreaterThan(5);
    }
  });
});
