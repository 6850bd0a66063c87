import { describe, expect, it } from 'vitest';
import { domainWithZero, linear, niceTicks } from '../../ui/src/scale.ts';

describe('results page axes', () => {
  it('keeps zero on every lift axis, with some padding', () => {
    expect(domainWithZero([0.1, 0.3], 0)).toEqual([0, 0.3]);
    const [lo, hi] = domainWithZero([-0.2, -0.1], 0.5);
    expect(lo).toBeCloseTo(-0.3, 12);
    expect(hi).toBeCloseTo(0.1, 12);
    expect(domainWithZero([], 0), 'no values yet').toEqual([-0.01, 0.01]);
  });

  it('puts round ticks across the domain: as many as fit, zero among them', () => {
    expect(niceTicks([-8.2, 8.6], 4)).toEqual([-5, 0, 5]);
    expect(niceTicks([-0.12, 0.31], 6)).toEqual([-0.1, 0, 0.1, 0.2, 0.3]);
    expect(niceTicks([-26.7, 29.9], 4)).toEqual([-20, 0, 20]);
    for (const [lo, hi] of [
      [-0.013, 0.4],
      [-3, 3],
      [-1000, 50],
      [-0.5, 0.0001],
    ] as const) {
      const ticks = niceTicks([lo, hi], 5);
      expect(ticks.length, `${lo}..${hi}`).toBeGreaterThanOrEqual(2);
      expect(ticks.length, `${lo}..${hi}`).toBeLessThanOrEqual(5);
      expect(ticks).toContain(0);
      expect(ticks.every((t) => t >= lo && t <= hi)).toBe(true);
    }
  });

  it('maps the domain linearly onto the drawing', () => {
    const x = linear([-1, 1], 100, 300);
    expect([x(-1), x(0), x(1)]).toEqual([100, 200, 300]);
  });
});
