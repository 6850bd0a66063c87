/**
 * From request text to the list of events to validate. Pure; whole-request problems throw a
 * GatewayHttpError (400/413), per-event problems are left to validation, and an ndjson line that is
 * not JSON is recorded as malformed so that only that event is rejected.
 */
import { GatewayHttpError } from './http-errors.ts';

/** The events of one request, in order. `malformed` maps an index to why its ndjson line failed. */
export interface BatchInput {
  readonly events: unknown[];
  readonly malformed: ReadonlyMap<number, string>;
}

/** An ndjson body split into lines, each parsed or marked malformed (not yet checked for size). */
export interface NdjsonBody {
  readonly kind: 'ndjson';
  readonly input: BatchInput;
}

const NO_MALFORMED: ReadonlyMap<number, string> = new Map();

/** Longest part of a JSON error message echoed back (V8 quotes the input in some messages). */
const MAX_PARSE_MESSAGE = 200;

/** Parses a JSON body; an empty or broken body is a 400 naming the problem. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '')
    throw new GatewayHttpError('invalid_json', 'the request body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new GatewayHttpError('invalid_json', `the request body is not valid JSON: ${parseMessage(err)}`);
  }
}

/**
 * Splits an application/x-ndjson body into events: one JSON value per line, blank lines ignored
 * (so a trailing newline is fine). An event's index counts non-blank lines from 0; the message of a
 * malformed line names its line number (from 1).
 */
export function parseNdjsonText(text: string): NdjsonBody {
  const events: unknown[] = [];
  const malformed = new Map<number, string>();
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as unknown);
    } catch (err) {
      malformed.set(events.length, `line ${lineNo} is not valid JSON: ${parseMessage(err)}`);
      events.push(undefined);
    }
  }
  return { kind: 'ndjson', input: { events, malformed } };
}

/** True for the value the ndjson parser hands to the route. */
export function isNdjsonBody(body: unknown): body is NdjsonBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { kind?: unknown }).kind === 'ndjson' &&
    'input' in body
  );
}

/**
 * The events of a POST /v1/batch body: `{ "batch": [...] }` parsed from JSON, or an ndjson body.
 * Not an object, no `batch`, `batch` not an array: 400. More than `maxEvents`: 413.
 */
export function batchInput(body: unknown, maxEvents: number): BatchInput {
  let input: BatchInput;
  if (isNdjsonBody(body)) {
    input = body.input;
  } else {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new GatewayHttpError(
        'invalid_body',
        `expected a JSON object { "batch": [ ...events ] }, got ${Array.isArray(body) ? 'an array' : jsonKind(body)}`,
      );
    }
    const batch = (body as Record<string, unknown>)['batch'];
    if (batch === undefined) {
      throw new GatewayHttpError(
        'invalid_body',
        'the body has no "batch" field; expected { "batch": [ ...events ] }',
      );
    }
    if (!Array.isArray(batch)) {
      throw new GatewayHttpError(
        'invalid_body',
        `"batch" must be an array of events, got ${jsonKind(batch)}`,
      );
    }
    input = { events: batch, malformed: NO_MALFORMED };
  }
  if (input.events.length > maxEvents) {
    throw new GatewayHttpError(
      'too_many_events',
      `the batch holds ${input.events.length} events; the limit is ${maxEvents} per request (split it)`,
    );
  }
  return input;
}

/** The events of a single-event route (/v1/track, ...): the body itself is the one event. */
export function singleEventInput(body: unknown): BatchInput {
  if (isNdjsonBody(body)) {
    if (body.input.events.length !== 1) {
      throw new GatewayHttpError(
        'invalid_body',
        `this route takes exactly one event; the ndjson body holds ${body.input.events.length} (use /v1/batch)`,
      );
    }
    return body.input;
  }
  return { events: [body], malformed: NO_MALFORMED };
}

function jsonKind(value: unknown): string {
  if (value === undefined) return 'no body';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function parseMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > MAX_PARSE_MESSAGE ? `${message.slice(0, MAX_PARSE_MESSAGE)}…` : message;
}
