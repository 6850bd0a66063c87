/**
 * The stats benches' data, generated inside ClickHouse with INSERT ... SELECT FROM numbers() in sink-sized
 * inserts (so parts and projections are built as the sink builds them): one experiment `checkout` of project
 * `bench`, 3 arms, unit ids are UUID strings.
 *
 * - Exposures: 1% of units end multiple-exposure (asserted analysed, retracted, re-asserted flagged); 2% were
 *   first assigned to another arm (asserted, retracted). First exposures spread evenly over
 *   EXPOSURE_DAYS from BASE_MS. Every exposure row carries the unit's dimensions map: `platform` (3 values)
 *   and `country` (25 values, skewed: the largest 21% of units, the smallest 1.2%), 1% of units without a
 *   country, so a breakdown shows 20 values plus '(other)'.
 * - Attributed rows: 60% of analysed units have events (~8 each), 80% of rows are `purchase`, the rest
 *   `view`; each at its unit's first exposure plus up to EVENT_LAG_DAYS, so every timestamp lies within
 *   DATA_DAYS of BASE_MS; sampling weights 1-4, 25% without a value; 2% asserted and retracted.
 *
 * The shape is issue 5's bench data; only the time spread (14 → 23 days of first exposures) and the
 * dimensions are new, so the single-metric figures stay comparable.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export const PROJECT = 'bench';
export const EXPERIMENT = 'checkout';
export const DAY_MS = 86_400_000;
export const BASE_MS = Date.UTC(2026, 0, 1);
/** First exposures lie in [BASE_MS, BASE_MS + EXPOSURE_DAYS). */
export const EXPOSURE_DAYS = 23;
/** An event lies in [first exposure, first exposure + EVENT_LAG_DAYS). */
export const EVENT_LAG_DAYS = 7;
/** Every row's timestamp lies in [BASE_MS, BASE_MS + DATA_DAYS): a daily series over it has DATA_DAYS + 1 points. */
export const DATA_DAYS = EXPOSURE_DAYS + EVENT_LAG_DAYS;

/** The 25 countries, most frequent first (P(i) = log26((i + 2) / (i + 1)), Benford-like). */
export const COUNTRIES = [
  'US', 'GB', 'DE', 'FR', 'IN', 'BR', 'CA', 'JP', 'ES', 'IT', 'NL', 'MX', 'AU',
  'PL', 'SE', 'TR', 'KR', 'ID', 'AR', 'BE', 'CH', 'AT', 'NO', 'DK', 'IE',
]; // prettier-ignore

/** Rows per INSERT: about what a sink writes in one flush at full rate. */
const INSERT_ROWS = 500_000;

/** Exposures of `units` units: per unit its final row, plus the retracted detours of 1% and 2% of units. */
export async function loadExposures(client: ClickHouseClient, units: number): Promise<void> {
  for (let start = 0; start < units; start += INSERT_ROWS) {
    const count = Math.min(INSERT_ROWS, units - start);
    await client.command({
      query: `
        INSERT INTO exposures (project, experiment, unit, variation, first_exposure_at, multiple_exposure,
                               dimensions, sign, src_partition, src_offset)
        SELECT '${PROJECT}', '${EXPERIMENT}', unit, r.1, r.2, r.3, dims, r.4, toUInt32(cityHash64(unit) % 8), number
        FROM (
          SELECT number, ${unitId('number')} AS unit, ${arm('number')} AS arm, ${dimensions('number')} AS dims,
                 toDateTime64(${BASE_MS / 1000} + ${firstExposureSeconds('number')}, 3, 'UTC') AS fe,
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

/**
 * ~`rows` attributed rows over 60% of the `units` units (multiple-exposure ones excluded). `u` is cast to
 * UInt64, the type of `numbers()` in loadExposures: sipHash128 hashes the value's bytes, and ClickHouse types
 * `if(h % 100 = 7, h - 1, h)` as Int32, so without the cast no attributed unit id matched an exposed unit
 * (issue 5's bench had that: its join line joined nothing).
 */
export async function loadAttributed(client: ClickHouseClient, units: number, rows: number): Promise<void> {
  const base = Math.round(rows / 1.02);
  const converting = Math.max(1, Math.floor(units * 0.6));
  for (let start = 0; start < base; start += INSERT_ROWS) {
    const count = Math.min(INSERT_ROWS, base - start);
    await client.command({
      query: `
        INSERT INTO attributed (project, experiment, unit, variation, event_id, event, timestamp, weight, value,
                                sign, src_partition, src_offset)
        SELECT '${PROJECT}', '${EXPERIMENT}', ${unitId('u')}, ${arm('u')}, toString(number),
               if(number % 5 = 0, 'view', 'purchase'),
               toDateTime64(${BASE_MS / 1000} + ${firstExposureSeconds('u')} + number % ${EVENT_LAG_DAYS * 86400}, 3, 'UTC'),
               [1., 1., 1., 2., 4.][number % 5 + 1],
               if(number % 4 = 0, NULL, (number % 10000) / 100),
               s, toUInt32(cityHash64(${unitId('u')}) % 8), number
        FROM (
          SELECT number, toUInt64(if(h % 100 = 7, h - 1, h)) AS u, arrayJoin(if(number % 50 = 0, [1, -1], [1])) AS s
          FROM (SELECT number, cityHash64(number) % ${converting} AS h FROM numbers(${start}, ${count}))
        )`,
    });
  }
}

/**
 * ~`rows` covariate rows (pre-exposure events, CUPED; issue 16) over 40% of the units (multiple-exposure ones
 * excluded, as the processor emits none for them): each up to 14 days before its unit's first exposure, 80%
 * `purchase`, weights and values as the attributed rows. Every row +1 (the table's retractions cost the
 * query nothing more than any other row).
 */
export async function loadCovariates(client: ClickHouseClient, units: number, rows: number): Promise<void> {
  const covered = Math.max(1, Math.floor(units * 0.4));
  for (let start = 0; start < rows; start += INSERT_ROWS) {
    const count = Math.min(INSERT_ROWS, rows - start);
    await client.command({
      query: `
        INSERT INTO covariates (project, experiment, unit, variation, first_exposure_at, event_id, event, timestamp,
                                weight, value, sign, src_partition, src_offset)
        SELECT '${PROJECT}', '${EXPERIMENT}', ${unitId('u')}, ${arm('u')}, fe, concat('c', toString(number)),
               if(number % 5 = 0, 'view', 'purchase'), fe - toIntervalSecond(1 + number % (14 * 86400)),
               [1., 1., 1., 2., 4.][number % 5 + 1], if(number % 4 = 0, NULL, (number % 10000) / 100),
               1, toUInt32(cityHash64(${unitId('u')}) % 8), number
        FROM (
          SELECT number, u, toDateTime64(${BASE_MS / 1000} + ${firstExposureSeconds('u')}, 3, 'UTC') AS fe
          FROM (
            SELECT number, toUInt64(if(h % 100 = 7, h - 1, h)) AS u
            FROM (SELECT number, cityHash64(number, 'covariate') % ${covered} AS h FROM numbers(${start}, ${count}))
          )
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
/** Seconds after BASE_MS of unit n's first exposure. */
function firstExposureSeconds(n: string): string {
  return `(${n} * 37) % ${EXPOSURE_DAYS * 86400}`;
}
/** Unit n's dimensions: floor(26^x) − 1 for x uniform in [0, 1) picks country i with P = log26((i+2)/(i+1)). */
function dimensions(n: string): string {
  const country = `[${COUNTRIES.map((c) => `'${c}'`).join(', ')}][toUInt32(floor(pow(26, (cityHash64(${n}, 'country') % 1000000) / 1e6)))]`;
  const platform = `['web', 'ios', 'android'][cityHash64(${n}, 'platform') % 3 + 1]`;
  return `if(cityHash64(${n}, 'none') % 100 = 42, map('platform', ${platform}), map('country', ${country}, 'platform', ${platform}))`;
}

/** Waits until no merge has run for 3 s (bounded at 3 minutes): the steady state a running sink reaches. */
export async function settleMerges(client: ClickHouseClient): Promise<void> {
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

/** One line per table: rows, parts, bytes on disk and its projections' rows. */
export async function describeTables(client: ClickHouseClient): Promise<string[]> {
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
  return rows.map((r) => {
    const proj = projections
      .filter((p) => p.table === r.table)
      .map((p) => `${p.name} ${Number(p.rows).toLocaleString('en-US')} rows`)
      .join(', ');
    return `${r.table}: ${Number(r.rows).toLocaleString('en-US')} rows in ${r.parts} parts, ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB; projections: ${proj}`;
  });
}
