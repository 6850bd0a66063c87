import normalCdfAt from '@stdlib/stats-base-dists-normal-cdf';
import { describe, expect, it } from 'vitest';
import {
  normalCdf,
  normalQuantile,
  twoSidedCriticalValue,
  twoSidedNormalPValue,
} from '../../../../services/stats/src/math/normal.ts';
import { expectAgrees, fixtures } from '../../../helpers/stats-fixtures.ts';

describe('normalQuantile', () => {
  it('gives 1.959963984540054 at 0.975', () => {
    expect(normalQuantile(0.975), 'Φ⁻¹(0.975)').toBeCloseTo(1.959963984540054, 14);
  });

  it('is antisymmetric around 0.5', () => {
    expect(normalQuantile(0.5), 'median').toBe(0);
    expect(normalQuantile(0.1), 'Φ⁻¹(0.1) = −Φ⁻¹(0.9)').toBeCloseTo(-normalQuantile(0.9), 14);
  });

  it('agrees with scipy norm.ppf, tails included', () => {
    for (const { p, expected } of fixtures.normal_quantile) {
      expectAgrees(normalQuantile(p), expected, `ppf(${p})`, false);
    }
  });
});

describe('normalCdf', () => {
  it('is 0.5 at 0 and about 0.8413 at 1', () => {
    expect(normalCdf(0), 'Φ(0)').toBe(0.5);
    expect(normalCdf(1), 'Φ(1)').toBeCloseTo(0.8413447460685429, 14);
  });
});

describe('twoSidedNormalPValue', () => {
  it('gives 0.05 at the 95% critical value', () => {
    expect(twoSidedNormalPValue(1.959963984540054), 'p at z=1.96').toBeCloseTo(0.05, 14);
  });

  it('is the same for z and −z', () => {
    expect(twoSidedNormalPValue(-2.5), 'p(−2.5)').toBe(twoSidedNormalPValue(2.5));
  });

  it('keeps tail p-values that 1 − Φ(|z|) would round to 0', () => {
    const naive = 2 * (1 - normalCdfAt(10, 0, 1));
    expect(naive, '1 − Φ(10) has cancelled to 0').toBe(0);
    expect(twoSidedNormalPValue(10), '2Φ(−10)').toBeCloseTo(1.5239706048320995e-23, 36);
  });

  it('agrees with scipy 2·norm.sf(|z|) to 1e−9 relative', () => {
    for (const { z, expected } of fixtures.normal_two_sided_p) {
      expectAgrees(twoSidedNormalPValue(z), expected, `2·sf(|${z}|)`, false);
    }
  });
});

describe('twoSidedCriticalValue', () => {
  it('agrees with scipy norm.ppf(1 − (1 − c)/2)', () => {
    for (const { confidence, expected } of fixtures.critical_value) {
      expectAgrees(twoSidedCriticalValue(confidence), expected, `z(${confidence})`, false);
    }
  });

  it('grows with the confidence', () => {
    expect(twoSidedCriticalValue(0.99), 'z(0.99) > z(0.9)').toBeGreaterThan(twoSidedCriticalValue(0.9));
  });
});

describe('normalQuantile in the lower tail', () => {
  it('stays finite and accurate where 2p − 1 has rounded to −1 (p = 1e−20)', () => {
    expectAgrees(normalQuantile(1e-20), -9.262340089798409, 'ppf(1e−20)', false);
  });

  it('inverts the tail-accurate CDF at p = 1e−250', () => {
    const x = normalQuantile(1e-250);
    expect(Math.abs(normalCdf(x) / 1e-250 - 1), 'Φ(Φ⁻¹(1e−250)) / 1e−250 − 1').toBeLessThan(1e-12);
  });
});
