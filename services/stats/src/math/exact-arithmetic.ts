/**
 * Error-free floating-point transformations (Knuth's TwoSum, Dekker's TwoProduct) and a correctly
 * rounded sum of a few doubles (Shewchuk's algorithm, as Python's `math.fsum`). They let a variance
 * be computed from Σx and Σx² without the cancellation of the textbook formula. Limits: inputs must
 * be finite and products must not overflow (|a·b| < ~1e300); the statistics here are far below that.
 */

/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134_217_729;

/** A value represented exactly as the unevaluated sum `hi + lo`, with |lo| ≤ ulp(hi)/2. */
export interface Expansion2 {
  hi: number;
  lo: number;
}

/** a + b exactly, as the rounded sum and its rounding error (Knuth's TwoSum, branch free). */
export function twoSum(a: number, b: number): Expansion2 {
  const hi = a + b;
  const bVirtual = hi - a;
  const aVirtual = hi - bVirtual;
  return { hi, lo: a - aVirtual + (b - bVirtual) };
}

function split(a: number): Expansion2 {
  const c = SPLITTER * a;
  const hi = c - (c - a);
  return { hi, lo: a - hi };
}

/** a · b exactly, as the rounded product and its rounding error (Dekker's TwoProduct). */
export function twoProduct(a: number, b: number): Expansion2 {
  const hi = a * b;
  const as = split(a);
  const bs = split(b);
  const lo = as.lo * bs.lo - (hi - as.hi * bs.hi - as.lo * bs.hi - as.hi * bs.lo);
  return { hi, lo };
}

/**
 * The sum of `values`, correctly rounded to the nearest double (Shewchuk's partials, the algorithm
 * of Python's `math.fsum`). Intended for a handful of terms; cost grows with the terms' spread.
 */
export function exactSum(values: readonly number[]): number {
  const partials: number[] = [];
  for (const value of values) {
    let x = value;
    let kept = 0;
    for (const partial of partials) {
      const { hi, lo } = twoSum(x, partial);
      if (lo !== 0) partials[kept++] = lo;
      x = hi;
    }
    partials.length = kept;
    partials.push(x);
  }
  // Round the non-overlapping partials (increasing magnitude) to one double, with the half-way
  // correction fsum applies so that the result is the correctly rounded exact sum.
  let i = partials.length - 1;
  if (i < 0) return 0;
  let hi = partials[i] as number;
  let lo = 0;
  while (i > 0) {
    i -= 1;
    const x = hi;
    const y = partials[i] as number;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (i > 0 && ((lo < 0 && (partials[i - 1] as number) < 0) || (lo > 0 && (partials[i - 1] as number) > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}
