/**
 * Per project, the events this gateway accepted, rejected and dropped that Kafka has not yet acknowledged
 * in a report. Pure (no clock, no I/O): the ingest routes count into it as they answer, the publisher
 * (ingest-report-publisher.ts) takes the reports due, produces them and acknowledges them.
 *
 * A report that was produced but not acknowledged is sent again **as it was** (same seq, same counts,
 * same window), never merged with later counts into a new report: a produce that timed out may still
 * have reached the broker, and a merged report under a new seq would count those events twice, whereas
 * the same (gateway_id, seq) is stored once by the reader. Counts arriving meanwhile accumulate in the
 * project's running tally and make the next report once the old one is acknowledged. So memory stays
 * bounded through a Kafka outage: per project, one waiting report and one tally.
 */
import type { IngestReport } from './ingest-report.ts';

/** Where the ingest routes count outcomes (the ledger, or nothing where no one reports them). */
export interface IngestOutcomeRecorder {
  /** `n` events of `project` acknowledged by Kafka at `at` (unix ms). */
  accepted(project: string, n: number, at: number): void;
  /** `n` events of `project` refused with `code`. */
  rejected(project: string, code: string, n: number, at: number): void;
  /** `n` events of `project` discarded for `reason` (bots). */
  dropped(project: string, reason: string, n: number, at: number): void;
}

/** Counts since a project's last report was sealed. */
interface Tally {
  /** Time of the first count, unix ms: the next report's window_start. */
  since: number;
  accepted: number;
  rejected: Map<string, number>;
  dropped: Map<string, number>;
}

export class IngestOutcomeLedger implements IngestOutcomeRecorder {
  private readonly tallies = new Map<string, Tally>();
  /** Per project, the report produced but not acknowledged yet. */
  private readonly unacknowledged = new Map<string, IngestReport>();
  private lastSeq = 0;

  /** `gatewayId`: random per process start (seq starts again at 1 with it). */
  constructor(private readonly gatewayId: string) {}

  accepted(project: string, n: number, at: number): void {
    if (n > 0) this.tally(project, at).accepted += n;
  }

  rejected(project: string, code: string, n: number, at: number): void {
    if (n > 0) add(this.tally(project, at).rejected, code, n);
  }

  dropped(project: string, reason: string, n: number, at: number): void {
    if (n > 0) add(this.tally(project, at).dropped, reason, n);
  }

  /**
   * The reports to produce now, at most one per project: its unacknowledged report as it was, else its
   * tally sealed into a new report with the next seq, its window ending at `now`. Projects with nothing
   * counted have none. Sealed reports wait for `acknowledge`; calling `due` again returns them again.
   */
  due(now: number): IngestReport[] {
    const reports: IngestReport[] = [];
    for (const [project, tally] of this.tallies) {
      if (this.unacknowledged.has(project)) continue;
      const report: IngestReport = {
        gateway_id: this.gatewayId,
        seq: ++this.lastSeq,
        project,
        window_start: tally.since,
        // A clock stepped back between the first count and now must not make an inverted window.
        window_end: Math.max(now, tally.since),
        accepted: tally.accepted,
        rejected: sortedRecord(tally.rejected),
        dropped: sortedRecord(tally.dropped),
      };
      this.unacknowledged.set(project, report);
      this.tallies.delete(project);
    }
    reports.push(...this.unacknowledged.values());
    return reports;
  }

  /** Forgets reports Kafka acknowledged; counts recorded after they were sealed stay for the next one. */
  acknowledge(reports: readonly IngestReport[]): void {
    for (const report of reports) {
      if (this.unacknowledged.get(report.project)?.seq === report.seq) {
        this.unacknowledged.delete(report.project);
      }
    }
  }

  /** Nothing counted and nothing waiting for an acknowledgement. */
  isEmpty(): boolean {
    return this.tallies.size === 0 && this.unacknowledged.size === 0;
  }

  /** Events counted but not yet in an acknowledged report (what a stop now would lose). */
  unreportedEvents(): number {
    let n = 0;
    for (const r of this.unacknowledged.values()) {
      n += r.accepted + sum(Object.values(r.rejected)) + sum(Object.values(r.dropped));
    }
    for (const t of this.tallies.values())
      n += t.accepted + sum(t.rejected.values()) + sum(t.dropped.values());
    return n;
  }

  private tally(project: string, at: number): Tally {
    let tally = this.tallies.get(project);
    if (tally === undefined) {
      tally = { since: at, accepted: 0, rejected: new Map(), dropped: new Map() };
      this.tallies.set(project, tally);
    }
    return tally;
  }
}

/** Counts nothing: for apps built without a report publisher (tests of the HTTP layer). */
export const IGNORE_OUTCOMES: IngestOutcomeRecorder = {
  accepted: () => undefined,
  rejected: () => undefined,
  dropped: () => undefined,
};

function add(counts: Map<string, number>, code: string, n: number): void {
  counts.set(code, (counts.get(code) ?? 0) + n);
}

function sortedRecord(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sum(counts: Iterable<number>): number {
  let n = 0;
  for (const v of counts) n += v;
  return n;
}
