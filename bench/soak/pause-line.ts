/**
 * A Node process's pauses over a phase (issue 19: a probe that meets one waits it out), from two scrapes
 * of its /metrics (prom-client's default metrics under the service's prefix): garbage collection time per
 * second of the phase, collections of more than 100 ms, and the event loop's longest delay (prom-client
 * resets that gauge at every scrape, so the second scrape holds the longest since the first: nothing else may
 * scrape the process in between, as the freshness bench's idle and half-rate phases do not).
 */
import { sumSeries } from '../lib/scrape-metrics.ts';

/** One line for the process whose metrics carry `prefix` (e.g. `liftstream_processor_`). */
export function pauseLine(
  name: string,
  prefix: string,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): string {
  if (after.size === 0) return `  ${name} pauses: its /metrics did not answer`;
  const gc = `${prefix}nodejs_gc_duration_seconds`;
  const delta = (metric: string, ...filters: string[]): number =>
    sumSeries(after, metric, ...filters) - sumSeries(before, metric, ...filters);
  const gcSeconds = delta(`${gc}_sum`);
  const collections = delta(`${gc}_count`);
  const long = collections - delta(`${gc}_bucket`, 'le="0.1"');
  const lagMax = sumSeries(after, `${prefix}nodejs_eventloop_lag_max_seconds`);
  return (
    `  ${name} pauses: GC ${((gcSeconds / seconds) * 1000).toFixed(1)} ms/s over ${collections} collections, ` +
    `${long} over 100 ms; event loop delay max ${(lagMax * 1000).toFixed(0)} ms`
  );
}
