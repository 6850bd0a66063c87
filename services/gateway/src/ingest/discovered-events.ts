/**
 * Track event names without a definition ("discovered"), remembered per project so each is logged
 * and counted once per process rather than once per event. Bounded: producers choose the names, so
 * beyond `limit` names the memory is emptied and names may be reported again.
 */
export class DiscoveredEvents {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 10_000) {}

  /** True the first time (project, name) is noted since the last reset. */
  note(project: string, name: string): boolean {
    const key = `${project}\u0000${name}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.limit) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}
