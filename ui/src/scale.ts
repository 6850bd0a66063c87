/** Axis arithmetic for drawing (where marks go), never for figures shown as numbers. Pure. */

/** A padded domain holding every value and 0, so "no difference" is always on the axis. */
export function domainWithZero(values: readonly number[], pad = 0.08): [number, number] {
  const min = Math.min(0, ...values);
  const max = Math.max(0, ...values);
  // Nothing but zero (no interval yet): a small span around it, so the axis is still drawable.
  const [lo, hi] = max > min ? [min, max] : [min - 0.01, max + 0.01];
  const span = hi - lo;
  return [lo - span * pad, hi + span * pad];
}

/** Round tick values (1, 2, 2.5, 5 × 10^k) across the domain: as many as fit in `most`, at least one. */
export function niceTicks(domain: readonly [number, number], most = 5): number[] {
  const [lo, hi] = domain;
  const magnitude = 10 ** Math.floor(Math.log10((hi - lo) / Math.max(1, most - 1)));
  const candidates = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50].map((m) => m * magnitude);
  const count = (step: number) => Math.floor(hi / step + 1e-9) - Math.ceil(lo / step - 1e-9) + 1;
  const step = candidates.find((c) => count(c) <= most) ?? (candidates.at(-1) as number);
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) {
    ticks.push(i === 0 ? 0 : Number((i * step).toPrecision(12)));
  }
  return ticks;
}

/** Linear map of the domain onto [x0, x1]. */
export function linear(domain: readonly [number, number], x0: number, x1: number): (v: number) => number {
  const [lo, hi] = domain;
  return (v) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
}
