/**
 * One accepted event of the ingest topic as `liftstream tail` prints it: a line for people, or a JSON
 * line for scripts; and the filters that choose which to print. Pure: the decoded record in, text out.
 */
import type { IngestEvent } from '../../services/processor/src/index.ts';
import type { Paint, Style } from './text-table.ts';

export const EVENT_TYPES = ['exposure', 'track', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What `tail` keeps; an absent field keeps everything. */
export interface IngestFilter {
  project?: string | undefined;
  type?: EventType | undefined;
  /** A user_id or an anonymous_id, as the producer sent it. */
  unit?: string | undefined;
}

export function matchesFilter(event: IngestEvent, filter: IngestFilter): boolean {
  return (
    (filter.project === undefined || event.project === filter.project) &&
    (filter.type === undefined || event.body.kind === filter.type) &&
    (filter.unit === undefined || event.user_id === filter.unit || event.anonymous_id === filter.unit)
  );
}

const TYPE_STYLES: Record<EventType, Style> = { exposure: 'yellow', track: 'green', alias: 'bold' };

/**
 * `2026-12-05T17:28:28.989Z demo track     user_id=u-1 event=purchase value=20`: event time (UTC), project,
 * type, the ids present, then what the event says. Values with blanks, quotes, "=" or control characters
 * are JSON-quoted.
 */
export function ingestLine(event: IngestEvent, paint: Paint): string {
  const body = event.body;
  const fields: Array<[string, string | number | null]> = [
    ['user_id', event.user_id],
    ['anonymous_id', event.anonymous_id],
  ];
  if (body.kind === 'exposure') fields.push(['experiment', body.experiment], ['variation', body.variation]);
  if (body.kind === 'track') {
    fields.push(['event', body.event], ['value', body.value]);
    if (body.sample !== 1) fields.push(['sample', body.sample]);
  }
  const pairs = fields.filter(([, v]) => v !== null).map(([k, v]) => `${k}=${quoted(String(v))}`);
  return [
    paint(isoTime(event.timestamp), 'dim'),
    quoted(event.project),
    paint(body.kind.padEnd(8), TYPE_STYLES[body.kind]),
    ...pairs,
  ].join(' ');
}

/**
 * The event as one JSON object, flat as the Event API takes it (`type` and the body's fields beside the
 * ids), with the gateway's `event_id`, `project` and `received_at`; times as ISO-8601 (UTC).
 */
export function ingestJson(event: IngestEvent): string {
  const { kind, ...body } = event.body;
  return JSON.stringify({
    timestamp: isoTime(event.timestamp),
    received_at: isoTime(event.received_at),
    event_id: event.event_id,
    project: event.project,
    type: kind,
    message_id: event.message_id,
    user_id: event.user_id,
    anonymous_id: event.anonymous_id,
    ...body,
    context: event.context,
  });
}

function isoTime(unixMs: number): string {
  const date = new Date(unixMs);
  return Number.isNaN(date.getTime()) ? String(unixMs) : date.toISOString();
}

// The gateway refuses control characters in ids, but anything with broker access can write the topic:
// none may reach a terminal raw (an escape sequence could rewrite the screen).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_QUOTES = /[\s"=\\\u0000-\u001f\u007f-\u009f]/u;

function quoted(value: string): string {
  if (value !== '' && !NEEDS_QUOTES.test(value)) return value;
  // JSON escapes C0 controls; DEL and C1 (0x9b opens an escape sequence on some terminals) too here.
  return JSON.stringify(value).replace(
    /[\u007f-\u009f]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
