/**
 * Freshness without a table scan per request: each experiment's newest counted event (newest-event-query.ts
 * defines it and computes it exactly, at O(the experiment's rows)), kept up to date from the sink's inserts.
 *
 * In the process that hosts the sink, every insert reports per experiment the newest counted time it asserts
 * and retracts (CommittedChange). The newest live time can only rise with an assertion (the asserted row is
 * live), so a known value becomes max(value, asserted) at once. A retraction at or after the known value may
 * have removed the newest live row (rows of one identity share their time): the value is then recomputed
 * exactly on the next request. A retraction of an older row changes nothing. So requests cost O(1) except
 * the first for an experiment and the rare one after such a retraction.
 *
 * Other writers exist too: with several stats processes the sink's partitions are shared among them, so this
 * process hears only of its own inserts (and none during a rolling restart). A maintained value is therefore
 * also re-read after `maintainedTtlMs` (30 s): freshness shown is never more than that behind another
 * process's inserts, and exact within this one's. Without a sink in this process (SINK_ENABLED=false against
 * a shared ClickHouse server) nothing reports inserts: a value is reused for `ttlMs` (2 s).
 *
 * Only experiments with something counted are remembered: a request for a name that has no counted event
 * (a typo, a probe) is read again next time rather than held forever, so the map holds at most the
 * project's real experiments.
 *
 * Loads racing inserts: an insert reported while a load runs may or may not be in the load's snapshot. Each
 * load keeps a log of the changes reported meanwhile and applies it to what it read (max with the asserted
 * times; a retraction at or after the result marks the value for recomputation), so no insert is lost.
 */
import type { CommittedChange } from '../../../sink/src/index.ts';

/** Reads the newest counted event per experiment of a project (all, or one), exactly. */
export type NewestLoader = (project: string, experiment?: string) => Promise<Map<string, number>>;

interface Known {
  /** Unix ms, or null when nothing is counted. */
  value: number | null;
  /** Set when a retraction may have removed the newest live row: recompute before use. */
  stale: boolean;
  loadedAt: number;
}

/** What was reported for one experiment while a load ran. */
interface Logged {
  asserted: number | null;
  retracted: number | null;
}

export interface FreshnessTrackerOptions {
  load: NewestLoader;
  /** True when `committed` receives every insert (the sink runs in this process). */
  maintained: boolean;
  /** Without maintenance, how long a computed value is reused, ms (default 2 s). */
  ttlMs?: number;
  /** With maintenance, how long before a value is re-read anyway (other processes' inserts), ms (default 30 s). */
  maintainedTtlMs?: number;
  now?: () => number;
}

export class FreshnessTracker {
  private readonly known = new Map<string, Known>();
  /** One log per load in progress. */
  private readonly logs = new Set<Map<string, Logged>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: FreshnessTrackerOptions) {
    this.ttlMs = options.maintained ? (options.maintainedTtlMs ?? 30_000) : (options.ttlMs ?? 2_000);
    this.now = options.now ?? Date.now;
  }

  /** The sink's report of an insert (SinkDeps.onCommitted); must return at once. */
  committed(changes: readonly CommittedChange[]): void {
    for (const change of changes) {
      if (change.newestAsserted === null && change.newestRetracted === null) continue;
      const key = keyOf(change.project, change.experiment);
      for (const log of this.logs) {
        const entry = log.get(key) ?? { asserted: null, retracted: null };
        log.set(key, {
          asserted: maxOf(entry.asserted, change.newestAsserted),
          retracted: maxOf(entry.retracted, change.newestRetracted),
        });
      }
      const known = this.known.get(key);
      if (known === undefined) continue;
      this.known.set(
        key,
        applied(known, { asserted: change.newestAsserted, retracted: change.newestRetracted }),
      );
    }
  }

  /** The newest counted event of one experiment (unix ms), or null when nothing is counted. */
  async newest(project: string, experiment: string): Promise<number | null> {
    const known = this.usable(keyOf(project, experiment));
    if (known !== undefined) return known.value;
    const loaded = await this.loadInto(project, [experiment], () => this.options.load(project, experiment));
    return loaded.get(experiment) ?? null;
  }

  /** The newest counted event of each of a project's `experiments`; one project-wide read when any is unknown. */
  async newestOf(project: string, experiments: readonly string[]): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>();
    const missing = experiments.filter((e) => {
      const known = this.usable(keyOf(project, e));
      if (known !== undefined) out.set(e, known.value);
      return known === undefined;
    });
    if (missing.length === 0) return out;
    const loaded = await this.loadInto(project, missing, () => this.options.load(project));
    for (const e of missing) out.set(e, loaded.get(e) ?? null);
    return out;
  }

  private usable(key: string): Known | undefined {
    const known = this.known.get(key);
    if (known === undefined || known.stale || this.now() - known.loadedAt > this.ttlMs) return undefined;
    return known;
  }

  /** Runs `read`, applies what was reported meanwhile, stores and returns the values of `experiments`. */
  private async loadInto(
    project: string,
    experiments: readonly string[],
    read: () => Promise<Map<string, number>>,
  ): Promise<Map<string, number | null>> {
    const log = new Map<string, Logged>();
    this.logs.add(log);
    let result: Map<string, number>;
    try {
      result = await read();
    } finally {
      this.logs.delete(log);
    }
    const loadedAt = this.now();
    const out = new Map<string, number | null>();
    for (const experiment of experiments) {
      const key = keyOf(project, experiment);
      const read: Known = { value: result.get(experiment) ?? null, stale: false, loadedAt };
      const known = applied(read, log.get(key) ?? { asserted: null, retracted: null });
      if (known.value === null) this.known.delete(key);
      else this.known.set(key, known);
      out.set(experiment, known.value);
    }
    return out;
  }
}

/** A known value after the changes `logged`: raised by an assertion, stale after a retraction reaching it. */
function applied(known: Known, logged: Logged): Known {
  const value = maxOf(known.value, logged.asserted);
  const stale = known.stale || (logged.retracted !== null && (value === null || logged.retracted >= value));
  return { value, stale, loadedAt: known.loadedAt };
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function keyOf(project: string, experiment: string): string {
  return `${project}\u0000${experiment}`;
}
