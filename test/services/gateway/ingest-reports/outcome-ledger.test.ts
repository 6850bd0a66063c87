import { describe, expect, it } from 'vitest';
import { ingestReportSchema } from '../../../../services/gateway/src/ingest-reports/ingest-report.ts';
import { IngestOutcomeLedger } from '../../../../services/gateway/src/ingest-reports/outcome-ledger.ts';

const GATEWAY = 'gw-1';

describe('IngestOutcomeLedger', () => {
  it('seals one report per project with its accepted, rejected-by-code and dropped-by-reason counts', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 5, 1_000);
    ledger.rejected('shop', 'invalid_kind', 2, 1_200);
    ledger.rejected('shop', 'pii_email', 1, 1_300);
    ledger.rejected('shop', 'invalid_kind', 3, 1_400);
    ledger.dropped('shop', 'bot', 4, 1_500);
    ledger.accepted('blog', 7, 2_000);

    const reports = ledger.due(10_000);

    expect(reports, 'one report per project, seq in sealing order').toEqual([
      {
        gateway_id: GATEWAY,
        seq: 1,
        project: 'shop',
        window_start: 1_000,
        window_end: 10_000,
        accepted: 5,
        rejected: { invalid_kind: 5, pii_email: 1 },
        dropped: { bot: 4 },
      },
      {
        gateway_id: GATEWAY,
        seq: 2,
        project: 'blog',
        window_start: 2_000,
        window_end: 10_000,
        accepted: 7,
        rejected: {},
        dropped: {},
      },
    ]);
    for (const r of reports) expect(ingestReportSchema.safeParse(r).success, 'valid on the wire').toBe(true);
  });

  it('has nothing due when nothing was counted, and ignores counts of zero', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 0, 1_000);
    ledger.rejected('shop', 'invalid_kind', 0, 1_000);
    expect(ledger.due(5_000)).toEqual([]);
    expect(ledger.isEmpty()).toBe(true);
  });

  it('forgets acknowledged reports, and the next window starts at the first count after them', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 1, 1_000);
    ledger.acknowledge(ledger.due(10_000));
    expect(ledger.isEmpty(), 'acknowledged: nothing left').toBe(true);
    expect(ledger.due(20_000), 'no counts since: no report').toEqual([]);

    ledger.dropped('shop', 'bot', 2, 23_000);
    const [next] = ledger.due(30_000);
    expect(next, 'a new report with the next seq').toMatchObject({
      seq: 2,
      window_start: 23_000,
      window_end: 30_000,
      accepted: 0,
      dropped: { bot: 2 },
    });
  });

  it('resends an unacknowledged report unchanged, keeping later counts for the report after it', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 3, 1_000);
    const [first] = ledger.due(10_000);
    // The produce failed (or its acknowledgement was lost): no acknowledge. More events arrive.
    ledger.accepted('shop', 4, 12_000);
    ledger.rejected('shop', 'invalid_kind', 1, 13_000);

    const retry = ledger.due(20_000);
    expect(retry, 'the same report, same seq and counts, so a reader stores it once').toEqual([first]);
    expect(ledger.unreportedEvents(), 'waiting report + later counts').toBe(3 + 4 + 1);

    ledger.acknowledge(retry);
    const [later] = ledger.due(30_000);
    expect(later, 'the later counts in their own report').toMatchObject({
      seq: 2,
      window_start: 12_000,
      window_end: 30_000,
      accepted: 4,
      rejected: { invalid_kind: 1 },
    });
    ledger.acknowledge([later!]);
    expect(ledger.isEmpty()).toBe(true);
  });

  it('acknowledging a stale copy of a report does not forget a newer one', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 1, 1_000);
    const first = ledger.due(2_000);
    ledger.acknowledge(first);
    ledger.accepted('shop', 2, 3_000);
    const second = ledger.due(4_000);
    ledger.acknowledge(first);
    expect(ledger.due(5_000), 'the second report still waits').toEqual(second);
  });

  it('a project waiting for an acknowledgement does not hold back the others', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 1, 1_000);
    ledger.accepted('blog', 1, 1_000);
    const [shop, blog] = ledger.due(2_000);
    ledger.acknowledge([blog!]);
    ledger.accepted('blog', 5, 3_000);
    const due = ledger.due(4_000);
    expect(due.map((r) => [r.project, r.seq, r.accepted])).toEqual([
      ['shop', shop!.seq, 1],
      ['blog', 3, 5],
    ]);
  });

  it('never makes a window that ends before it starts when the clock steps back', () => {
    const ledger = new IngestOutcomeLedger(GATEWAY);
    ledger.accepted('shop', 1, 5_000);
    const [report] = ledger.due(4_000);
    expect(report?.window_start).toBe(5_000);
    expect(report?.window_end).toBe(5_000);
  });
});
