/**
 * How the API's numbers read in a terminal. Pure; every function formats a number the API gave and
 * computes none (the one judgement, significance, compares the API's p-value with its own confidence).
 * Undefined figures (null in the API) read as "—".
 */

export const NONE = '—';

const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const large = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

/** A count: 12,345. */
export function formatCount(n: number | null): string {
  return n === null ? NONE : counts.format(n);
}

/** A mean or a ratio: four significant digits below 1,000 (25, 0.1235), one decimal above (12,345.7). */
export function formatNumber(x: number | null): string {
  if (x === null) return NONE;
  return Math.abs(x) >= 1000 ? large.format(x) : small.format(x);
}

/** A rate in [0, 1] as a percentage with two decimals: 0.5 → 50.00%. */
export function formatRate(x: number | null): string {
  return x === null ? NONE : `${(x * 100).toFixed(2)}%`;
}

/** A relative change with its sign and one decimal: 0.123 → +12.3%, 0 → +0.0%. */
export function formatLift(x: number | null): string {
  if (x === null) return NONE;
  const text = (x * 100).toFixed(1);
  // A tiny negative lift rounds to "-0.0": shown as +0.0%, as zero is.
  return text.startsWith('-') && text !== '-0.0' ? `${text}%` : `+${text.replace(/^-/, '')}%`;
}

/** A share with one decimal, unsigned unless negative: a variance reduction of 0.234 → 23.4%, -0.012 → -1.2%. */
export function formatShare(x: number | null): string {
  if (x === null) return NONE;
  const text = (x * 100).toFixed(1);
  return `${text === '-0.0' ? '0.0' : text}%`;
}

/** A relative interval: [-4.1%, +12.3%]. */
export function formatInterval(ci: readonly number[] | null): string {
  if (ci === null || ci.length !== 2) return NONE;
  return `[${formatLift(ci[0] ?? null)}, ${formatLift(ci[1] ?? null)}]`;
}

/** A p-value with four decimals, "<0.0001" below that. */
export function formatPValue(p: number | null): string {
  if (p === null) return NONE;
  return p < 0.0001 ? '<0.0001' : p.toFixed(4);
}

/** An ISO-8601 time from the API as "2026-12-05 17:28:28Z" (UTC, to the second). */
export function formatTime(iso: string | null): string {
  if (iso === null) return NONE;
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : iso;
}

/** Whether a change is good news: a metric to increase, one to decrease (guardrails such as errors), or either. */
export type Direction = 'increase' | 'decrease' | undefined;

export type Verdict = 'control' | 'untested' | 'not significant' | 'better' | 'worse' | 'changed';

/**
 * A treatment's figures in words, at the results' confidence: "not significant" when p ≥ 1 − confidence,
 * else which way the lift went and, when the metric has a direction, whether that is better or worse.
 */
export function significance(input: {
  isControl: boolean;
  lift: number | null;
  pValue: number | null;
  confidence: number;
  direction: Direction;
}): { verdict: Verdict; words: string } {
  const { isControl, lift, pValue, confidence, direction } = input;
  if (isControl) return { verdict: 'control', words: 'control' };
  if (pValue === null || lift === null) return { verdict: 'untested', words: 'not enough data' };
  // Rounded: 1 − 0.95 is 0.050000000000000044 in floating point, which would call p = 0.05 significant.
  const alpha = Math.round((1 - confidence) * 1e9) / 1e9;
  if (pValue >= alpha) return { verdict: 'not significant', words: 'not significant' };
  const way = lift > 0 ? 'increase' : 'decrease';
  if (direction === undefined) return { verdict: 'changed', words: `significant ${way}` };
  const good = way === direction;
  return { verdict: good ? 'better' : 'worse', words: `significant ${way} (${good ? 'better' : 'worse'})` };
}

/** Below this SRM p-value the split is judged broken (the threshold of docs/semantics.md's SRM alert). */
export const SRM_ALARM_P = 0.001;
