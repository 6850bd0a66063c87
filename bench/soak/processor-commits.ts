/**
 * The processor's commit cadence over a phase (issue 19: it is part of the freshness budget), from two
 * scrapes of its /metrics: transactions committed per second (liftstream_processor_transactions_total,
 * result="commit") and the duration of a chunk with its transaction (liftstream_processor_transaction_seconds,
 * bucket bounds), per stage and in all.
 */
import { sumSeries } from '../lib/scrape-metrics.ts';
import { histogramQuantiles } from './freshness-split.ts';

const COMMITS = 'liftstream_processor_transactions_total';
const SECONDS = 'liftstream_processor_transaction_seconds';

function committed(metrics: ReadonlyMap<string, number>, stage: string): number {
  return sumSeries(metrics, COMMITS, 'result="commit"', stage);
}

function bound(b: number | undefined): string {
  return b !== undefined && Number.isFinite(b) ? `≤ ${Math.round(b * 1000)} ms` : '–';
}

/** One line; empty scrapes (no processor endpoint) say so. */
export function processorCommitLine(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): string {
  if (after.size === 0) return '  processor commits: its /metrics did not answer';
  const selections = [
    { name: 'all', filter: '' },
    ...['identity', 'units'].map((stage) => ({ name: stage, filter: `stage="${stage}"` })),
  ];
  const parts = selections.map(({ name, filter }) => {
    const commits = committed(after, filter) - committed(before, filter);
    const { bounds } = histogramQuantiles(before, after, SECONDS, filter, [0.5, 0.99]);
    return `${name} ${(commits / seconds).toFixed(1)}/s (chunk + transaction p50 ${bound(bounds[0])}, p99 ${bound(bounds[1])})`;
  });
  return `  processor commits: ${parts.join('; ')}`;
}
