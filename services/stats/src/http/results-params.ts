/**
 * Parameters of `GET /v1/experiments/:experiment/results`, parsed into values or the name of the first
 * bad one (the HTTP layer answers 400 with it). Pure.
 */
import { DEFAULT_CONFIDENCE } from '../math/experiment-results.ts';

/** Metric names are event names: snake_case, as the gateway accepts them (`$` names are the system's). */
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,127}$/;
const MAX_NAME_LENGTH = 256;

export interface ResultsParams {
  experiment: string;
  metric: string;
  /** Requested control variation; undefined means "the variation named control". */
  control: string | undefined;
  confidence: number;
  /** Event-time window [from, to), unix ms. */
  from: number | undefined;
  to: number | undefined;
}

export type ParamsOutcome =
  { ok: true; value: ResultsParams } | { ok: false; param: string; message: string };

/** Parses the path and query of a results request; fails on the first bad parameter, naming it. */
export function parseResultsParams(
  path: Record<string, unknown>,
  query: Record<string, unknown>,
): ParamsOutcome {
  const experiment = path['experiment'];
  if (typeof experiment !== 'string' || experiment.length === 0 || experiment.length > MAX_NAME_LENGTH) {
    return bad('experiment', `must be a non-empty name of at most ${MAX_NAME_LENGTH} characters`);
  }
  const metric = query['metric'];
  if (metric === undefined || metric === '')
    return bad('metric', 'is required: the event name to analyse, e.g. ?metric=purchase');
  if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) {
    return bad(
      'metric',
      'must be an event name: a lowercase letter, then up to 127 lowercase letters, digits or _',
    );
  }
  const control = query['control'];
  if (
    control !== undefined &&
    (typeof control !== 'string' || control.length === 0 || control.length > MAX_NAME_LENGTH)
  ) {
    return bad('control', `must be a variation name of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  let confidence = DEFAULT_CONFIDENCE;
  if (query['confidence'] !== undefined) {
    const parsed = toNumber(query['confidence']);
    if (parsed === null || !(parsed > 0 && parsed < 1)) {
      return bad('confidence', 'must be a number strictly between 0 and 1, e.g. 0.95');
    }
    confidence = parsed;
  }
  const from = optionalTime(query['from']);
  if (from === null) return bad('from', 'must be unix milliseconds or an ISO-8601 date/time');
  const to = optionalTime(query['to']);
  if (to === null) return bad('to', 'must be unix milliseconds or an ISO-8601 date/time');
  if (from !== undefined && to !== undefined && !(from < to)) return bad('to', 'must be later than from');
  return {
    ok: true,
    value: { experiment, metric, control: control as string | undefined, confidence, from, to },
  };
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** DateTime64(3)'s range, so a bound can always be bound as a query parameter. */
const MIN_MS = Date.UTC(1900, 0, 1);
const MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/**
 * A time parameter: unix milliseconds (digits) or ISO-8601 (`2026-01-31`, `2026-01-31T12:00:00Z`,
 * `...+02:00`); a date-time without an offset is UTC. Null when malformed or outside 1900-2299.
 */
export function parseTimeParam(raw: unknown): number | null {
  let ms: number;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw !== 'string') return null;
  else if (/^\d{1,15}$/.test(raw)) ms = Number(raw);
  else {
    const m = ISO_DATE_TIME.exec(raw);
    if (m === null) return null;
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    if (!validCalendar(Number(y), Number(mo), Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)))
      return null;
    const text = `${y}-${mo}-${d}T${h ?? '00'}:${mi ?? '00'}:${s ?? '00'}.${(frac ?? '0').padEnd(3, '0').slice(0, 3)}${normaliseZone(zone)}`;
    ms = Date.parse(text);
    if (Number.isNaN(ms)) return null;
  }
  return Number.isInteger(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : null;
}

/** Date.parse rolls 2026-02-30 over to March 2 and accepts 24:00; a parameter must name a real instant. */
function validCalendar(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function normaliseZone(zone: string | undefined): string {
  if (zone === undefined || zone === 'Z') return 'Z';
  return zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

/** undefined when absent, null when malformed. */
function optionalTime(raw: unknown): number | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  return parseTimeParam(raw);
}

function toNumber(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  if (typeof raw !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())) return null;
  return Number(raw);
}

function bad(param: string, message: string): ParamsOutcome {
  return { ok: false, param, message: `parameter "${param}" ${message}` };
}

export type ControlOutcome =
  | {
      ok: true;
      control: string;
      /** The project's configured control, with no unit stored yet: the caller lists it with 0 units. */
      absent: boolean;
    }
  | { ok: false; message: string };

/**
 * The control variation: the requested one (else the one the project's configuration names for the
 * experiment, `configured`) when it exists, else the variation named `control`. The configured control
 * is accepted before any of its units is stored (`absent`): it is a variation of the experiment by
 * configuration, and at the experiment's start its first exposures can be a moment behind a
 * treatment's. Anything else unknown → a message listing the variations, so the caller knows what to
 * pass.
 */
export function resolveControl(
  variations: readonly string[],
  requested: string | undefined,
  configured?: string,
): ControlOutcome {
  const list = variations.map((v) => JSON.stringify(v)).join(', ');
  const wanted = requested ?? configured;
  if (wanted !== undefined) {
    if (variations.includes(wanted)) return { ok: true, control: wanted, absent: false };
    if (wanted === configured) return { ok: true, control: wanted, absent: true };
    return {
      ok: false,
      message: `parameter "control": no variation named ${JSON.stringify(wanted)}; the variations are ${list}`,
    };
  }
  if (variations.includes('control')) return { ok: true, control: 'control', absent: false };
  return {
    ok: false,
    message: `parameter "control" is required: no variation is named "control"; pass ?control=<one of ${list}>`,
  };
}

/** Most metrics one request may name: keeps one request's cost bounded (one column set per metric). */
export const MAX_REQUEST_METRICS = 20;

/**
 * `metrics=a,b,c`: catalogue metric ids, at most MAX_REQUEST_METRICS, no repeats. Undefined when absent;
 * an error message naming the parameter when malformed.
 */
export function parseMetricList(raw: unknown): string[] | undefined | { error: string } {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string')
    return { error: 'parameter "metrics" must be given once, as a comma-separated list' };
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.length > MAX_REQUEST_METRICS) {
    return {
      error: `parameter "metrics" names ${ids.length} metrics; at most ${MAX_REQUEST_METRICS} per request`,
    };
  }
  for (const id of ids) {
    if (!METRIC_NAME.test(id)) {
      return {
        error: `parameter "metrics": ${JSON.stringify(id.slice(0, 64))} is not a metric id (a lowercase letter, then up to 127 lowercase letters, digits or _)`,
      };
    }
  }
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) return { error: `parameter "metrics" names "${repeated}" twice` };
  return ids;
}
