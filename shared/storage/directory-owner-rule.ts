/**
 * Who may use a state parent directory (STATE_DIR, SINK_STATE_DIR), decided from what its process
 * directories' owner records say. Pure: the records, the clock and the process probe are passed in
 * (`directory-owner.ts` reads them from disk).
 *
 * Processes on one host may share a parent: each has a directory of its own, and pid plus start time
 * tell a live one from garbage (the test suites and local mode run several processors on the default
 * directory). Across hosts (containers, machines) a pid means nothing, so the only sign of life is the
 * owner record's heartbeat: a fresh one from another host means the directory is shared between replicas,
 * which the cleanup cannot make safe, and the process is refused. Hosts are told apart by hostname:
 * containers sharing one (`network_mode: host`) look like one host.
 */

/** What a process writes into its directory when it opens it. */
export interface OwnerRecord {
  hostname: string;
  pid: number;
  /** Process start time, clock ticks since boot (`/proc/<pid>/stat`); null where unreadable. */
  startTime: string | null;
  /** When the process opened the directory, ISO 8601. */
  startedAt: string;
}

/** The process deciding. */
export interface OwnerIdentity {
  hostname: string;
  pid: number;
  startTime: string | null;
}

/** One process directory found in the parent. */
export interface Holder {
  /** Null for a directory without a readable record (an older version's, or a crash before it was written). */
  record: OwnerRecord | null;
  /** pid and start time from the directory's name, used when there is no record. */
  pid: number;
  startTime: string | null;
  /** Last heartbeat (the record's mtime), ms since the epoch; null without a record. */
  heartbeatAtMs: number | null;
}

/** What a pid is on this host now: whether it runs, and its start time (null: unreadable). */
export type ProcessProbe = (pid: number) => { alive: boolean; startTime: string | null };

export type OwnerVerdict =
  /** A live process's directory: leave it. */
  | { action: 'keep'; reason: string }
  /** Garbage of a process that is gone: remove it. */
  | { action: 'take-over'; reason: string }
  /** Another host's live process: this one must not start on the parent. */
  | { action: 'refuse'; reason: string };

/**
 * The verdict on one holder for `me` at `nowMs`. A record whose heartbeat is `staleAfterMs` old is a
 * process that is gone, whatever its host (clock skew between hosts must stay well below that).
 */
export function judgeHolder(
  holder: Holder,
  me: OwnerIdentity,
  nowMs: number,
  probe: ProcessProbe,
  staleAfterMs: number,
): OwnerVerdict {
  const { record } = holder;
  // A heartbeat from the future is another host's clock running ahead: fresh.
  const ageMs = holder.heartbeatAtMs === null ? null : Math.max(0, nowMs - holder.heartbeatAtMs);
  const stale = ageMs !== null && ageMs >= staleAfterMs;
  const who = record === null ? `pid ${holder.pid}` : describeOwner(record, ageMs);

  if (record !== null && record.hostname !== me.hostname) {
    return stale
      ? { action: 'take-over', reason: `${who}: no heartbeat for ${seconds(staleAfterMs)} s or more` }
      : { action: 'refuse', reason: who };
  }

  const pid = record?.pid ?? holder.pid;
  const startTime = record === null ? holder.startTime : record.startTime;
  if (pid === me.pid && startTime === me.startTime) return { action: 'keep', reason: 'this process' };
  const now = probe(pid);
  if (!now.alive) return { action: 'take-over', reason: `${who}: the process is gone` };
  if (startTime === null || now.startTime === null) {
    // Start times unreadable (not Linux, hidepid): only a stale heartbeat tells a reused pid.
    return stale
      ? { action: 'take-over', reason: `${who}: pid alive but no heartbeat, reused` }
      : { action: 'keep', reason: `${who}: alive` };
  }
  return startTime === now.startTime
    ? { action: 'keep', reason: `${who}: alive` }
    : { action: 'take-over', reason: `${who}: pid reused by another process` };
}

/** `host "h", pid 7, started <iso>, last heartbeat 1.2 s ago`: enough to find the other owner. */
export function describeOwner(record: OwnerRecord, heartbeatAgeMs: number | null): string {
  const heartbeat = heartbeatAgeMs === null ? '' : `, last heartbeat ${seconds(heartbeatAgeMs)} s ago`;
  return `host ${JSON.stringify(record.hostname)}, pid ${record.pid}, started ${record.startedAt}${heartbeat}`;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1).replace(/\.0$/, '');
