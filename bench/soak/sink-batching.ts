/**
 * What the sink's batching buys, between two scrapes of the stats process's /metrics (issue 19): inserts
 * (each one ClickHouse part) and rows per table, rows per insert, inserts per second, and ClickHouse's
 * active parts at the end (liftstream_stats_clickhouse_parts, what merges have left).
 */
export const SINK_TABLES = ['exposures', 'attributed', 'variation_metrics'] as const;

export interface SinkBatching {
  seconds: number;
  /** Per table, then `all`. */
  inserts: Record<string, number>;
  rows: Record<string, number>;
  /** Active parts per table at the end (NaN when not reported). */
  parts: Record<string, number>;
  /** Insert rounds by pacing (fetched, large, paced, capped). */
  rounds: Record<string, number>;
  /** Seconds spent in inserts per table, then `all` (a round's inserts run one after the other). */
  insertSeconds: Record<string, number>;
  /** Fetched batches stored by those rounds. */
  batches: number;
}

export function sinkBatching(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): SinkBatching {
  const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
  const out: SinkBatching = {
    seconds,
    inserts: { all: 0 },
    rows: { all: 0 },
    parts: { all: 0 },
    rounds: {},
    insertSeconds: { all: 0 },
    batches: delta('liftstream_sink_round_batches_total'),
  };
  for (const start of ['fetched', 'large', 'paced', 'capped'])
    out.rounds[start] = delta(`liftstream_sink_insert_rounds_total{pacing="${start}"}`);
  for (const table of SINK_TABLES) {
    const inserts = delta(`liftstream_sink_insert_duration_seconds_count{table="${table}"}`);
    const rows = delta(`liftstream_sink_rows_inserted_total{table="${table}"}`);
    const seconds = delta(`liftstream_sink_insert_duration_seconds_sum{table="${table}"}`);
    const parts = after.get(`liftstream_stats_clickhouse_parts{table="${table}"}`) ?? Number.NaN;
    addTable(out.inserts, table, inserts);
    addTable(out.rows, table, rows);
    addTable(out.parts, table, parts);
    addTable(out.insertSeconds, table, seconds);
  }
  return out;
}

/** Sets a table's figure and adds it to `all`. */
function addTable(figures: Record<string, number>, table: string, value: number): void {
  figures[table] = value;
  figures['all'] = (figures['all'] ?? 0) + value;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

/** One line per table and one for all: inserts, inserts/s, rows per insert, active parts at the end. */
export function sinkBatchingLines(b: SinkBatching): string[] {
  const rounds = Object.entries(b.rounds)
    .filter(([, n]) => n > 0)
    .map(([d, n]) => `${d} ${int(n)}`)
    .join(', ');
  const roundCount = Object.values(b.rounds).reduce((sum, n) => sum + n, 0);
  return [
    ...['all', ...SINK_TABLES].map((table) => {
      const inserts = b.inserts[table] ?? 0;
      const rows = b.rows[table] ?? 0;
      const ms = ((b.insertSeconds[table] ?? 0) * 1000) / Math.max(1, inserts);
      return (
        `  ${table.padEnd(17)} ${int(inserts).padStart(7)} inserts (${(inserts / b.seconds).toFixed(1)}/s), ` +
        `${int(rows).padStart(9)} rows, ${(rows / Math.max(1, inserts)).toFixed(1)} rows/insert, ${ms.toFixed(1)} ms/insert, ` +
        `${int(b.parts[table] ?? Number.NaN)} active parts at the end`
      );
    }),
    `  insert rounds: ${rounds === '' ? 'none' : rounds}; ${(b.batches / Math.max(1, roundCount)).toFixed(1)} fetched batches per round, ` +
      `${(((b.insertSeconds['all'] ?? 0) * 1000) / Math.max(1, roundCount)).toFixed(0)} ms inserting per round, ` +
      `inserting ${((100 * (b.insertSeconds['all'] ?? 0)) / b.seconds).toFixed(0)}% of the time`,
  ];
}
