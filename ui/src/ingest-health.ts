/**
 * The project's ingest health as the page words it, from GET /v1/ingest/summary: accepted, rejected and
 * bot-dropped events over the window, the most frequent rejection codes, and whether any gateway has
 * reported at all. Pure: counts are the API's, only sorted and cut; none is added or subtracted here.
 */
import type { IngestSummaryAnswer } from './api-types.ts';

/** Rejection codes named beside the total; the rest are only counted ("+2 more codes"). */
export const TOP_CODES = 3;
/** The window the page asks for, hours. */
export const INGEST_HOURS = 24;

export interface IngestHealth {
  /** False when no gateway has reported: every count below is then zero and says nothing. */
  reported: boolean;
  accepted: number;
  rejected: number;
  /** Dropped as bots (`dropped.by_reason.bot`, 0 when absent). */
  botDropped: number;
  /** Every drop, whatever the reason (`dropped.total`). */
  dropped: number;
  /** The TOP_CODES most frequent rejection codes, most first (ties by code), and how many codes are not named. */
  topCodes: { code: string; count: number }[];
  moreCodes: number;
  gateways: number;
  lastReportAt: string | null;
}

export function ingestHealth(answer: IngestSummaryAnswer): IngestHealth {
  const codes = Object.entries(answer.rejected.by_code)
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, count]) => ({ code, count }));
  const top = codes.slice(0, TOP_CODES);
  return {
    reported: answer.last_report_at !== null,
    accepted: answer.accepted,
    rejected: answer.rejected.total,
    botDropped: answer.dropped.by_reason['bot'] ?? 0,
    dropped: answer.dropped.total,
    topCodes: top,
    moreCodes: codes.length - top.length,
    gateways: answer.gateways,
    lastReportAt: answer.last_report_at,
  };
}

/** "INVALID_FIELD 3, RESERVED_EVENT_NAME 1 (+2 more codes)", or "none" when no code has a rejection. */
export function formatTopCodes(health: IngestHealth, formatCount: (n: number) => string): string {
  if (health.topCodes.length === 0) return 'none';
  const parts = health.topCodes.map((c) => `${c.code} ${formatCount(c.count)}`);
  const more =
    health.moreCodes === 0 ? '' : ` (+${health.moreCodes} more code${health.moreCodes === 1 ? '' : 's'})`;
  return `${parts.join(', ')}${more}`;
}
