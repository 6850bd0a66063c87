import { describe, expect, it } from 'vitest';
import { toIngestReportRow } from '../../../services/stats/src/ingest-reports/ingest-report-rows.ts';

const REPORT = {
  gateway_id: 'gw-1',
  seq: 7,
  project: 'shop',
  window_start: Date.UTC(2026, 11, 5, 10, 0, 0, 0),
  window_end: Date.UTC(2026, 11, 5, 10, 0, 10, 250),
  accepted: 12,
  rejected: { invalid_kind: 2 },
  dropped: { bot: 3 },
};
const value = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('toIngestReportRow', () => {
  it('turns a report into a row with DateTime64 windows and its counts as maps', () => {
    expect(toIngestReportRow(value(REPORT))).toEqual({
      ok: true,
      row: {
        project: 'shop',
        gateway_id: 'gw-1',
        seq: 7,
        window_start: '2026-12-05 10:00:00.000',
        window_end: '2026-12-05 10:00:10.250',
        accepted: 12,
        rejected: { invalid_kind: 2 },
        dropped: { bot: 3 },
      },
    });
  });

  it('ignores fields it does not know (a newer gateway)', () => {
    const read = toIngestReportRow(value({ ...REPORT, region: 'eu' }));
    expect(read.ok && read.row).not.toHaveProperty('region');
  });

  it.each([
    ['not JSON', '{"gateway_id":', /not JSON/],
    ['a tombstone', null, /no value/],
    ['a missing field', { ...REPORT, accepted: undefined }, /^accepted:/],
    ['a negative count', { ...REPORT, rejected: { invalid_kind: -1 } }, /^rejected\.invalid_kind:/],
    ['a fractional seq', { ...REPORT, seq: 1.5 }, /^seq:/],
    ['an empty project', { ...REPORT, project: '' }, /^project:/],
    ['an inverted window', { ...REPORT, window_start: REPORT.window_end + 1 }, /window_start is after/],
    ['a window beyond DateTime64', { ...REPORT, window_end: 1e16 }, /^window_end:/],
    ['not an object', [1, 2], /record/],
  ])('refuses %s with the reason', (_what, v, reason) => {
    const read = toIngestReportRow(v === null ? null : value(v));
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.reason).toMatch(reason);
  });
});
