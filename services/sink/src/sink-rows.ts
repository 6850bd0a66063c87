/**
 * Decoded Avro records of the public topics → rows of the ClickHouse tables. Pure: the field names
 * are those of schemas/unit-exposure.avsc, attributed-event.avsc and covariate-event.avsc (avsc's
 * in-memory form: `timestamp-millis` longs arrive as numbers, `["null","double"]` as a number or null),
 * plus the Kafka coordinates of the record, which are what makes the sink exactly-once. A record of the
 * wrong shape (another producer on the topic, a schema this build cannot read) is a reason, never an
 * exception.
 */

/**
 * The ClickHouse tables the sink writes, one per topic (`topicNames(prefix)[table]`), all fed the same way:
 * co-partitioned topics written in the same transactions, stored exactly once by the same rules.
 */
export const SINK_TABLES = ['exposures', 'attributed', 'covariates'] as const;

export type SinkTable = (typeof SINK_TABLES)[number];

/** Where a row came from: the exactly-once key (see README.md). */
export interface SourcePosition {
  partition: number;
  /** Kafka offset (int64; exact as a JS number below 2^53, i.e. for centuries at any real rate). */
  offset: number;
}

/** A row of `exposures` in JSONEachRow form. */
export interface ExposureRow {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  /** `YYYY-MM-DD hh:mm:ss.sss`, UTC (the column is DateTime64(3, 'UTC')). */
  first_exposure_at: string;
  multiple_exposure: boolean;
  /**
   * The unit's declared dimensions, valued from its first exposure (column `Map(LowCardinality(String),
   * String)`); {} for records written before the field existed. Copied as the record has it, so a −1
   * row carries exactly the map of the +1 it retracts (the processor derives both from the same state).
   */
  dimensions: Record<string, string>;
  sign: 1 | -1;
  src_partition: number;
  src_offset: number;
}

/** A row of `attributed` in JSONEachRow form. */
export interface AttributedRow {
  project: string;
  experiment: string;
  unit: string;
  variation: string;
  event_id: string;
  event: string;
  /** `YYYY-MM-DD hh:mm:ss.sss`, UTC. */
  timestamp: string;
  weight: number;
  value: number | null;
  sign: 1 | -1;
  src_partition: number;
  src_offset: number;
}

/**
 * A row of `covariates` in JSONEachRow form: a track event before the unit's first exposure (CUPED), with
 * the fields of an attributed row plus the first exposure it was derived against.
 */
export interface CovariateRow extends AttributedRow {
  /** `YYYY-MM-DD hh:mm:ss.sss`, UTC. */
  first_exposure_at: string;
}

export type SinkRow = ExposureRow | AttributedRow | CovariateRow;

export type RowRead<R> = { ok: true; row: R } | { ok: false; reason: string };

/** DateTime64(3)'s range: 1900-01-01 to 2299-12-31 (UTC), in unix ms. */
const MIN_DATETIME64_MS = Date.UTC(1900, 0, 1);
const MAX_DATETIME64_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/**
 * Unix ms → ClickHouse's DateTime64(3) text in UTC, or null when the value is not an integer in the
 * column's range. Text, not a number: a bare number in JSONEachRow is read as seconds for DateTime64.
 */
export function formatDateTime64(ms: number): string | null {
  if (!Number.isInteger(ms) || ms < MIN_DATETIME64_MS || ms > MAX_DATETIME64_MS) return null;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ for years 0000-9999
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** formatDateTime64's inverse: `YYYY-MM-DD hh:mm:ss.sss` (UTC) → unix ms. */
export function parseDateTime64(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** A decoded `UnitExposure` record → an `exposures` row. */
export function toExposureRow(value: unknown, at: SourcePosition): RowRead<ExposureRow> {
  if (!isObject(value)) return { ok: false, reason: 'not a record' };
  const strings = requireStrings(value, ['project', 'experiment', 'unit', 'variation']);
  if (typeof strings === 'string') return { ok: false, reason: strings };
  const firstExposureAt = formatDateTime64(millis(value['first_exposure_at']));
  if (firstExposureAt === null) {
    return { ok: false, reason: 'first_exposure_at must be unix ms within 1900-2299' };
  }
  if (typeof value['multiple_exposure'] !== 'boolean') {
    return { ok: false, reason: 'multiple_exposure must be a boolean' };
  }
  // Absent when the writer schema predates the field (decoded with the writer's schema, no default applied).
  const dimensions = value['dimensions'] ?? {};
  if (!isObject(dimensions) || !Object.values(dimensions).every((v) => typeof v === 'string')) {
    return { ok: false, reason: 'dimensions must be a map of strings' };
  }
  const sign = readSign(value['sign']);
  if (sign === null) return { ok: false, reason: 'sign must be +1 or -1' };
  return {
    ok: true,
    row: {
      project: strings.project,
      experiment: strings.experiment,
      unit: strings.unit,
      variation: strings.variation,
      first_exposure_at: firstExposureAt,
      multiple_exposure: value['multiple_exposure'],
      dimensions: dimensions as Record<string, string>,
      sign,
      src_partition: at.partition,
      src_offset: at.offset,
    },
  };
}

/** A decoded `AttributedEvent` record → an `attributed` row. */
export function toAttributedRow(value: unknown, at: SourcePosition): RowRead<AttributedRow> {
  if (!isObject(value)) return { ok: false, reason: 'not a record' };
  const strings = requireStrings(value, ['project', 'experiment', 'unit', 'variation', 'event_id', 'event']);
  if (typeof strings === 'string') return { ok: false, reason: strings };
  const timestamp = formatDateTime64(millis(value['timestamp']));
  if (timestamp === null) return { ok: false, reason: 'timestamp must be unix ms within 1900-2299' };
  const weight = value['weight'];
  // The gateway bounds sample to [0.01, 1], so a weight is in [1, 100]; anything not positive is corrupt.
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    return { ok: false, reason: 'weight must be a positive finite number' };
  }
  const raw = value['value'] ?? null;
  if (raw !== null && (typeof raw !== 'number' || !Number.isFinite(raw))) {
    return { ok: false, reason: 'value must be a finite number or null' };
  }
  const sign = readSign(value['sign']);
  if (sign === null) return { ok: false, reason: 'sign must be +1 or -1' };
  return {
    ok: true,
    row: {
      project: strings.project,
      experiment: strings.experiment,
      unit: strings.unit,
      variation: strings.variation,
      event_id: strings.event_id,
      event: strings.event,
      timestamp,
      weight,
      value: raw,
      sign,
      src_partition: at.partition,
      src_offset: at.offset,
    },
  };
}

/**
 * A decoded `CovariateEvent` record → a `covariates` row: an attributed event's fields, checked the same
 * way, plus `first_exposure_at`. Whether `timestamp` lies before it is the processor's rule, not checked
 * here: the table mirrors the topic.
 */
export function toCovariateRow(value: unknown, at: SourcePosition): RowRead<CovariateRow> {
  if (!isObject(value)) return { ok: false, reason: 'not a record' };
  const event = toAttributedRow(value, at);
  if (!event.ok) return event;
  const firstExposureAt = formatDateTime64(millis(value['first_exposure_at']));
  if (firstExposureAt === null) {
    return { ok: false, reason: 'first_exposure_at must be unix ms within 1900-2299' };
  }
  return { ok: true, row: { ...event.row, first_exposure_at: firstExposureAt } };
}

/** The row mapping of each table's topic. */
export const ROW_READERS: Readonly<
  Record<SinkTable, (value: unknown, at: SourcePosition) => RowRead<SinkRow>>
> = { exposures: toExposureRow, attributed: toAttributedRow, covariates: toCovariateRow };

/**
 * `insert_deduplication_token` of one insert: `<topic>:<partition>:<firstOffset>-<lastOffset>`. A retry
 * of the same rows (after a timeout whose insert may have landed) carries the same token, and ClickHouse
 * drops a block whose token it has seen among the table's last `non_replicated_deduplication_window`
 * inserts.
 */
export function insertDedupToken(
  topic: string,
  partition: number,
  firstOffset: number,
  lastOffset: number,
): string {
  return `${topic}:${partition}:${firstOffset}-${lastOffset}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireStrings<K extends string>(
  value: Record<string, unknown>,
  keys: readonly K[],
): Record<K, string> | string {
  const out = {} as Record<K, string>;
  for (const key of keys) {
    const v = value[key];
    if (typeof v !== 'string') return `${key} must be a string`;
    out[key] = v;
  }
  return out;
}

/** avsc returns a number for `timestamp-millis` unless a logical-type hook maps it to a Date. */
function millis(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  return Number.NaN;
}

function readSign(value: unknown): 1 | -1 | null {
  return value === 1 || value === -1 ? value : null;
}
