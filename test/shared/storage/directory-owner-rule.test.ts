import { describe, expect, it } from 'vitest';
import {
  judgeHolder,
  type Holder,
  type OwnerIdentity,
  type ProcessProbe,
} from '../../../shared/storage/directory-owner-rule.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const STALE_AFTER_MS = 30_000;
const me: OwnerIdentity = { hostname: 'replica-a', pid: 1, startTime: '500' };

/** A directory with an owner record from `hostname`/`pid`/`startTime`, heartbeating `ageMs` ago. */
const recorded = (hostname: string, pid: number, startTime: string | null, ageMs: number): Holder => ({
  record: { hostname, pid, startTime, startedAt: '2025-06-01T11:00:00.000Z' },
  pid,
  startTime,
  heartbeatAtMs: NOW - ageMs,
});
/** A directory without a record (an older version's). */
const legacy = (pid: number, startTime: string | null): Holder => ({
  record: null,
  pid,
  startTime,
  heartbeatAtMs: null,
});

const running =
  (procs: Record<number, string | null>): ProcessProbe =>
  (pid) =>
    pid in procs ? { alive: true, startTime: procs[pid] ?? null } : { alive: false, startTime: null };
const nothingRuns = running({});

const judge = (holder: Holder, probe: ProcessProbe = nothingRuns) =>
  judgeHolder(holder, me, NOW, probe, STALE_AFTER_MS);

describe('judgeHolder: another host', () => {
  it('refuses when its heartbeat is fresh, naming host, pid, start and heartbeat age', () => {
    expect(judge(recorded('replica-b', 1, '42', 2_500))).toEqual({
      action: 'refuse',
      reason: 'host "replica-b", pid 1, started 2025-06-01T11:00:00.000Z, last heartbeat 2.5 s ago',
    });
  });

  it('refuses even when the same pid runs here (pids mean nothing across hosts)', () => {
    expect(judge(recorded('replica-b', 1, '500', 1_000), running({ 1: '500' })).action).toBe('refuse');
  });

  it('takes over when the heartbeat is stale', () => {
    const verdict = judge(recorded('replica-b', 1, '42', STALE_AFTER_MS));
    expect(verdict.action).toBe('take-over');
    expect(verdict.reason).toMatch(/host "replica-b".*no heartbeat for 30 s or more/);
  });

  it('counts a heartbeat from the future (clock skew) as fresh', () => {
    expect(judge(recorded('replica-b', 7, '42', -60_000)).action).toBe('refuse');
  });
});

describe('judgeHolder: this host', () => {
  it('keeps this very process', () => {
    expect(judge(recorded('replica-a', 1, '500', 0))).toEqual({ action: 'keep', reason: 'this process' });
  });

  it('keeps another live process with the same start time, even with a stale heartbeat', () => {
    // Processes on one host may share a parent; a frozen event loop does not make one dead.
    expect(judge(recorded('replica-a', 9, '700', 10 * STALE_AFTER_MS), running({ 9: '700' })).action).toBe(
      'keep',
    );
  });

  it('takes over when the pid is gone', () => {
    const verdict = judge(recorded('replica-a', 9, '700', 1_000));
    expect(verdict).toMatchObject({ action: 'take-over' });
    expect(verdict.reason).toMatch(/pid 9.*the process is gone/);
  });

  it('takes over when the pid was reused (a restarted container is pid 1 again)', () => {
    const verdict = judge(recorded('replica-a', 1, '300', 1_000), running({ 1: '500' }));
    expect(verdict.action, 'our own pid, an older start time').toBe('take-over');
    expect(verdict.reason).toMatch(/pid reused/);
  });

  it('without start times, keeps a live pid while its heartbeat is fresh and takes it over once stale', () => {
    const unreadable = running({ 9: null });
    expect(judge(recorded('replica-a', 9, null, 1_000), unreadable).action, 'fresh').toBe('keep');
    expect(judge(recorded('replica-a', 9, null, STALE_AFTER_MS), unreadable).action, 'stale').toBe(
      'take-over',
    );
  });
});

describe('judgeHolder: a directory without a record', () => {
  it('is judged by the pid and start time in its name, as before records existed', () => {
    expect(judge(legacy(9, '700'), running({ 9: '700' })).action, 'alive').toBe('keep');
    expect(judge(legacy(9, '700'), running({ 9: '800' })).action, 'pid reused').toBe('take-over');
    expect(judge(legacy(9, '700')).action, 'gone').toBe('take-over');
    expect(judge(legacy(9, null), running({ 9: '800' })).action, 'no start time in the name: kept').toBe(
      'keep',
    );
  });
});
