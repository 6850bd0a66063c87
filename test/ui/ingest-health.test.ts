import { describe, expect, it } from 'vitest';
import type { IngestSummaryAnswer } from '../../ui/src/api-types.ts';
import { formatCount } from '../../ui/src/format.ts';
import { formatTopCodes, ingestHealth, TOP_CODES } from '../../ui/src/ingest-health.ts';

/** The agreed shape of GET /v1/ingest/summary?hours=24. */
function answer(overrides: Partial<IngestSummaryAnswer> = {}): IngestSummaryAnswer {
  return {
    project: 'shop',
    from: '2026-01-01T12:00:00.000Z',
    to: '2026-01-02T12:00:00.000Z',
    accepted: 12345,
    rejected: {
      total: 9,
      by_code: { INVALID_FIELD: 3, RESERVED_EVENT_NAME: 4, PERSONAL_DATA: 1, TOO_OLD: 1 },
    },
    dropped: { total: 2, by_reason: { bot: 2 } },
    gateways: 2,
    last_report_at: '2026-01-02T11:59:58.000Z',
    ...overrides,
  };
}

describe("the project's ingest health on the experiment page", () => {
  it("keeps the API's counts: accepted, rejected total, bot drops, gateways", () => {
    const health = ingestHealth(answer());
    expect(health).toMatchObject({
      reported: true,
      accepted: 12345,
      rejected: 9,
      botDropped: 2,
      dropped: 2,
      gateways: 2,
      lastReportAt: '2026-01-02T11:59:58.000Z',
    });
  });

  it('names the most frequent rejection codes, most first, ties by code, and counts the codes left out', () => {
    const health = ingestHealth(answer());
    expect(health.topCodes).toEqual([
      { code: 'RESERVED_EVENT_NAME', count: 4 },
      { code: 'INVALID_FIELD', count: 3 },
      { code: 'PERSONAL_DATA', count: 1 },
    ]);
    expect(health.topCodes).toHaveLength(TOP_CODES);
    expect(health.moreCodes).toBe(1);
    expect(formatTopCodes(health, formatCount)).toBe(
      'RESERVED_EVENT_NAME 4, INVALID_FIELD 3, PERSONAL_DATA 1 (+1 more code)',
    );
  });

  it('writes large counts grouped, and "none" without a rejection code', () => {
    const many = ingestHealth(answer({ rejected: { total: 12000, by_code: { INVALID_FIELD: 12000 } } }));
    expect(formatTopCodes(many, formatCount)).toBe('INVALID_FIELD 12,000');
    const clean = ingestHealth(answer({ rejected: { total: 0, by_code: {} } }));
    expect(formatTopCodes(clean, formatCount)).toBe('none');
  });

  it('reads no bot drop as 0 when the API names no bot reason', () => {
    const health = ingestHealth(answer({ dropped: { total: 0, by_reason: {} } }));
    expect([health.botDropped, health.dropped]).toEqual([0, 0]);
  });

  it('tells "no gateway has reported yet" apart from zero traffic', () => {
    const silent = ingestHealth(
      answer({
        accepted: 0,
        rejected: { total: 0, by_code: {} },
        dropped: { total: 0, by_reason: {} },
        gateways: 0,
        last_report_at: null,
      }),
    );
    expect(silent.reported).toBe(false);
    const quiet = ingestHealth(answer({ accepted: 0, rejected: { total: 0, by_code: {} } }));
    expect(quiet.reported).toBe(true);
  });
});
