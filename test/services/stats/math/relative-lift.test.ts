import { describe, expect, it } from 'vitest';
import { liftConfidenceInterval, relativeLift } from '../../../../services/stats/src/math/relative-lift.ts';

describe('relativeLift', () => {
  it('is treatment / control − 1', () => {
    expect(relativeLift(0.12, 0.1), '12% vs 10%').toBeCloseTo(0.2, 15);
    expect(relativeLift(0.05, 0.1), '5% vs 10%').toBeCloseTo(-0.5, 15);
  });

  it('is null when the control figure is 0', () => {
    expect(relativeLift(0.1, 0), 'zero control').toBeNull();
  });

  it('is null when either figure is null', () => {
    expect(relativeLift(null, 0.1), 'null treatment').toBeNull();
    expect(relativeLift(0.1, null), 'null control').toBeNull();
  });

  it('keeps the sign arithmetic for a negative control (net of refunds)', () => {
    expect(relativeLift(-1, -2), '−1 vs −2').toBeCloseTo(-0.5, 15);
  });
});

describe('liftConfidenceInterval', () => {
  const treatment = { conversions: 120, units: 1000 };
  const control = { conversions: 100, units: 1000 };

  it('is lift ± z·SE with the delta-method SE (120/1000 vs 100/1000)', () => {
    // SE² = 0.12·0.88/1000/0.01 + 0.0144·(0.1·0.9/1000)/0.0001 = 0.01056 + 0.01296
    const halfWidth = 1.959963984540054 * Math.sqrt(0.02352);
    const ci = liftConfidenceInterval(treatment, control, 0.95);
    expect(ci?.[0], 'lower').toBeCloseTo(0.2 - halfWidth, 12);
    expect(ci?.[1], 'upper').toBeCloseTo(0.2 + halfWidth, 12);
  });

  it('widens with the confidence', () => {
    const ci90 = liftConfidenceInterval(treatment, control, 0.9);
    const ci99 = liftConfidenceInterval(treatment, control, 0.99);
    if (ci90 === null || ci99 === null) throw new Error('intervals should exist');
    expect(ci99[1] - ci99[0], '99% wider than 90%').toBeGreaterThan(ci90[1] - ci90[0]);
  });

  it('is null when the control rate is 0', () => {
    expect(
      liftConfidenceInterval(treatment, { conversions: 0, units: 1000 }, 0.95),
      'zero control',
    ).toBeNull();
  });

  it('is null when an arm has no units', () => {
    expect(liftConfidenceInterval({ conversions: 0, units: 0 }, control, 0.95), 'empty arm').toBeNull();
  });

  it('collapses to the point [0, 0] when every unit converted in both arms', () => {
    const all = liftConfidenceInterval({ conversions: 10, units: 10 }, { conversions: 20, units: 20 }, 0.95);
    expect(all, 'SE is 0 by the formula').toEqual([0, 0]);
  });
});
