/**
 * How the page writes the API's numbers: rounding and units only, never a new figure. Pure (Intl only),
 * so the browser test formats the API's own answer with these functions and compares with the page.
 * Undefined figures (null in the API) are written as an em dash.
 */

const LOCALE = 'en-US';
export const MISSING = '—';
/** U+2212: a minus sign as wide as the plus, read as "minus" by screen readers. */
const MINUS = '−';

const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const significant = new Intl.NumberFormat(LOCALE, { maximumSignificantDigits: 4 });
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(LOCALE, { timeStyle: 'medium' });

const signed = (text: string, negative: boolean, zero: boolean) =>
  zero ? text : negative ? `${MINUS}${text}` : `+${text}`;

/** Units, conversions: 12,345. */
export function formatCount(n: number | null): string {
  return n === null ? MISSING : integer.format(n);
}

/** Expected units of the SRM check (fractional): 1,234.5. */
export function formatExpected(n: number | null): string {
  return n === null ? MISSING : oneDecimal.format(n);
}

/** A proportion as a percentage with two decimals: 0.12345 → 12.35%. */
export function formatRate(x: number | null): string {
  return x === null ? MISSING : `${(x * 100).toFixed(2)}%`;
}

/** A mean, count per unit or ratio: four significant digits, 1,234 or 0.004567. */
export function formatValue(x: number | null): string {
  return x === null ? MISSING : significant.format(x).replace('-', MINUS);
}

/** A metric's estimate by type: a rate for conversions, a value otherwise. */
export function formatEstimate(type: string, x: number | null): string {
  return type === 'conversion' ? formatRate(x) : formatValue(x);
}

/** A relative lift, signed: +12.3% (one decimal from 10%), +3.21%, −0.52%. */
export function formatLift(x: number | null): string {
  if (x === null) return MISSING;
  const pct = Math.abs(x * 100);
  const text = `${pct.toFixed(pct >= 10 ? 1 : 2)}%`;
  return signed(text, x < 0, Number(text.slice(0, -1)) === 0);
}

/** An interval of lifts: −2.10% to +25.3%. */
export function formatInterval(ci: readonly [number, number] | null): string {
  return ci === null ? MISSING : `${formatLift(ci[0])} to ${formatLift(ci[1])}`;
}

/** A p-value: 0.540, 0.032, 0.0012, or < 0.0001. */
export function formatPValue(p: number | null): string {
  if (p === null) return MISSING;
  if (p < 0.0001) return '< 0.0001';
  return p < 0.01 ? p.toFixed(4) : p.toFixed(3);
}

/**
 * A share as a percentage with one decimal, minus-signed when negative: a variance reduction of 0.234 →
 * 23.4%, −0.012 → −1.2%.
 */
export function formatShare(x: number | null): string {
  if (x === null) return MISSING;
  const text = `${Math.abs(x * 100).toFixed(1)}%`;
  return x < 0 && Number(text.slice(0, -1)) !== 0 ? `${MINUS}${text}` : text;
}

/** A lookback in days as configured: 14 days, 1 day, 0.1 days. */
export function formatDays(days: number): string {
  return `${formatValue(days)} ${days === 1 ? 'day' : 'days'}`;
}

/** A confidence level: 0.95 → 95%. */
export function formatConfidence(c: number): string {
  return `${Number((c * 100).toFixed(2))}%`;
}

/** An API timestamp in the reader's time zone: Nov 6, 2026, 2:03 PM. */
export function formatDateTime(iso: string | null): string {
  return iso === null ? MISSING : dateTime.format(new Date(iso));
}

/** A clock time for "updated at": 2:03:15 PM. */
export function formatTime(ms: number): string {
  return time.format(new Date(ms));
}

/** How long ago, coarsely: just now, 5 min ago, 3 h ago, 2 days ago. */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (iso === null) return MISSING;
  const seconds = Math.max(0, (nowMs - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/**
 * How old an API timestamp is, to the second while it is recent: 4 s ago, 12 min ago, 3 h ago, 2 days ago.
 * Event times come from producers' clocks, which may run ahead of this one: a time in the future reads
 * "just now", never a negative age.
 */
export function formatAge(iso: string | null, nowMs: number): string {
  if (iso === null) return MISSING;
  const seconds = Math.floor(Math.max(0, nowMs - Date.parse(iso)) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}
