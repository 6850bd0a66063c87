/**
 * What the sequential test is for (docs/semantics.md, "Monitoring: always-valid inference"): A/A experiments,
 * so every rejection is a false positive, read after every 100 units per arm as a dashboard would be. The
 * fixed-horizon relative t-test, read that way, rejects far more often than α; gbstats'
 * SequentialTwoSidedTTest does not. Seeded, so the counts are the same on every run.
 */
import { describe, expect, it } from 'vitest';
import { meanArm } from '../../../../services/stats/src/math/mean-statistic.ts';
import type { MeanSums } from '../../../../services/stats/src/math/mean-statistic.ts';
import { proportionArm } from '../../../../services/stats/src/math/proportion-statistic.ts';
import { relativeTTest } from '../../../../services/stats/src/math/relative-t-test.ts';
import { sequentialTTest } from '../../../../services/stats/src/math/sequential-t-test.ts';
import type { MeanSample } from '../../../../services/stats/src/math/welch-t-test.ts';
import { seededRandom } from '../../../e2e/scenario/seeded-random.ts';
import type { SeededRandom } from '../../../e2e/scenario/seeded-random.ts';

const ALPHA = 0.05;
const CONFIDENCE = 1 - ALPHA;
const TUNING = 5000;
/** Experiments per data kind (normal, Bernoulli): 400 in all. */
const EXPERIMENTS = 200;
const PEEK_EVERY = 100;
const UNITS_PER_ARM = 5000;

/** Whether the fixed-horizon and the sequential test rejected lift = 0 at any peek of one experiment. */
interface Rejections {
  fixed: boolean;
  sequential: boolean;
}

/** Standard normal draw (Box–Muller; 1 − u keeps the logarithm finite). */
function normal(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

/**
 * One A/A experiment: both arms draw each unit's value from `draw`; every PEEK_EVERY units per arm, both tests
 * read the arms' gbstats statistics (`arm`, from the running sums), as a dashboard refreshing would.
 */
function experiment(
  random: SeededRandom,
  draw: (random: SeededRandom) => number,
  arm: (sums: MeanSums) => MeanSample | null,
): Rejections {
  const sums: [MeanSums, MeanSums] = [
    { units: 0, sum: 0, sumSq: 0 },
    { units: 0, sum: 0, sumSq: 0 },
  ];
  const seen: Rejections = { fixed: false, sequential: false };
  for (let n = 1; n <= UNITS_PER_ARM; n++) {
    for (const s of sums) {
      const x = draw(random);
      s.units += 1;
      s.sum += x;
      s.sumSq += x * x;
    }
    if (n % PEEK_EVERY !== 0) continue;
    const t = arm(sums[0]);
    const c = arm(sums[1]);
    if (t === null || c === null) continue;
    seen.fixed ||= (relativeTTest(t, c, CONFIDENCE)?.pValue ?? 1) < ALPHA;
    seen.sequential ||= (sequentialTTest(t, c, CONFIDENCE, TUNING)?.pValue ?? 1) < ALPHA;
  }
  return seen;
}

/** N(10, 5²) values, gbstats' SampleMeanStatistic (a mean metric). */
const normalValue = (random: SeededRandom) => 10 + 5 * normal(random);
/** Conversions with probability 0.1, gbstats' ProportionStatistic (a conversion metric, the event answer). */
const converted = (random: SeededRandom) => (random.chance(0.1) ? 1 : 0);
const asProportion = (sums: MeanSums) => proportionArm({ units: sums.units, conversions: sums.sum });

describe('peeking at A/A experiments every 100 units', () => {
  it('inflates the fixed-horizon false-positive rate far above α, and keeps the sequential one within α', () => {
    const random = seededRandom(20261216);
    const runs = [
      ...Array.from({ length: EXPERIMENTS }, () => experiment(random, normalValue, meanArm)),
      ...Array.from({ length: EXPERIMENTS }, () => experiment(random, converted, asProportion)),
    ];
    const total = runs.length;
    const fixed = runs.filter((r) => r.fixed).length;
    const sequential = runs.filter((r) => r.sequential).length;
    console.log(
      `A/A, ${total} experiments (${EXPERIMENTS} normal, ${EXPERIMENTS} Bernoulli), peeked every ${PEEK_EVERY} ` +
        `units up to ${UNITS_PER_ARM} per arm (${UNITS_PER_ARM / PEEK_EVERY} peeks), α = ${ALPHA}: ` +
        `fixed-horizon rejected at some peek in ${fixed} (${((100 * fixed) / total).toFixed(1)}%), ` +
        `sequential (τ = ${TUNING}) in ${sequential} (${((100 * sequential) / total).toFixed(1)}%)`,
    );

    expect(fixed / total, 'fixed-horizon rate under peeking: well above α').toBeGreaterThan(2 * ALPHA);
    // Allowance: if the sequential test's chance of ever rejecting an A/A experiment is at most α, the number of
    // rejecting experiments is stochastically at most Binomial(400, α): mean 20, sd √(400·α·(1 − α)) ≈ 4.36.
    // The bound, the mean plus three sd (33.1, i.e. 8.3%), is exceeded with probability P(X ≥ 34) ≈ 0.2%
    // (exact binomial), so a count above it is evidence of a broken bound, not bad luck of the seed.
    const allowance = 3 * Math.sqrt(total * ALPHA * (1 - ALPHA));
    expect(sequential, 'sequential rejections ≤ α·n plus three binomial sd').toBeLessThanOrEqual(
      ALPHA * total + allowance,
    );
  });
});
