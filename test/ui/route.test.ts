import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from '../../ui/src/route.ts';
import type { Route } from '../../ui/src/route.ts';

describe('results page routes (URL fragment)', () => {
  it('round-trips an experiment page with every selection', () => {
    const route: Route = {
      page: 'experiment',
      experiment: 'checkout v2/ü',
      options: {
        metrics: ['revenue', 'views'],
        dimension: 'country',
        figures: 'fixed',
        over: 'revenue',
        interval: 'day',
      },
    };
    expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(
      parseRoute(formatRoute({ page: 'experiment', experiment: 'e', options: { event: 'purchase' } })),
    ).toEqual({
      page: 'experiment',
      experiment: 'e',
      options: { event: 'purchase' },
    });
  });

  it('falls back to the list for anything else, and drops selections that are not names', () => {
    expect(parseRoute('')).toEqual({ page: 'list' });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'list' });
    expect(parseRoute('#/experiments/%E0%A4%A')).toEqual({ page: 'list' });
    expect(parseRoute('#/experiments/e?metrics=a,B!,a&figures=maybe&interval=week&event=Bad')).toEqual({
      page: 'experiment',
      experiment: 'e',
      options: { metrics: ['a'] },
    });
  });
});
