/** Timing a request repeatedly for the benches: sorted wall times, their summary, and the peak RSS meanwhile. */
import fs from 'node:fs';

export interface TimingSummary {
  runs: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  /** Highest VmRSS of this process sampled every 20 ms during the runs, MiB (chDB's engine included). */
  peakRssMb: number;
}

/** Sorted wall times (ms) of `runs` runs after one untimed warm-up (caches of marks, the first projection read). */
export async function timeRuns(runs: number, run: () => Promise<unknown>): Promise<number[]> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Times `run` at most `maxRuns` times but stops adding runs after about `budgetMs` (at least `minRuns`), after
 * one warm-up run, so a 10 s query at 10M units does not take 20 runs; the summary says how many ran.
 */
export async function timeWithin(
  options: { maxRuns: number; minRuns: number; budgetMs: number },
  run: () => Promise<unknown>,
): Promise<TimingSummary> {
  const sampler = startRssSampler();
  try {
    const warm = performance.now();
    await run();
    const warmMs = performance.now() - warm;
    const runs = Math.max(
      options.minRuns,
      Math.min(options.maxRuns, Math.floor(options.budgetMs / Math.max(1, warmMs))),
    );
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return {
      runs,
      medianMs: percentile(times, 0.5),
      p95Ms: percentile(times, 0.95),
      minMs: times[0] as number,
      maxMs: times[times.length - 1] as number,
      peakRssMb: sampler.peakMb(),
    };
  } finally {
    sampler.stop();
  }
}

/** Nearest-rank percentile of sorted values (the median of an even count is the lower middle). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1))] as number;
}

/** VmRSS of this process, MiB. */
export function rssMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Samples this process's RSS every 20 ms. chDB runs a query on its own threads, so the event loop is free to
 * sample while one runs; a spike shorter than 20 ms can be missed.
 */
function startRssSampler(): { peakMb: () => number; stop: () => void } {
  let peak = rssMb();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 20);
  return {
    peakMb: () => Math.max(peak, rssMb()),
    stop: () => clearInterval(timer),
  };
}
