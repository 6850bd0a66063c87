/** What the benches read about a process from /proc (Linux only). */
import fs from 'node:fs';

/** Resident set size of process `pid`, MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid: number): number {
  return statusMb(pid, 'VmRSS');
}

/**
 * The anonymous part of the resident set, MB (RssAnon: heap, stacks, native allocations): what the
 * process holds. VmRSS also counts file pages it has mapped and touched (RssFile: code, and the
 * processor's LMDB state file), which are page cache the kernel reclaims under pressure.
 */
export function rssAnonMb(pid: number): number {
  return statusMb(pid, 'RssAnon');
}

function statusMb(pid: number, field: string): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** CPU seconds (user + system) used so far by process `pid`, all threads. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Pids of the live child processes of `parent` (field 4 of /proc/<pid>/stat is the parent pid). */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.split(') ')[1]?.split(' ')[1]) === parent) out.push(Number(entry));
    } catch {
      // The process exited while the list was read.
    }
  }
  return out;
}
