import { describe, expect, it } from 'vitest';
import { countsByExperiment } from '../../../../services/stats/src/storage/open-alerts-query.ts';

describe('open alerts per experiment (experiments listing)', () => {
  it('totals the open alerts of each experiment and keeps the count of each kind', () => {
    const counts = countsByExperiment([
      { of_experiment: 'checkout', of_kind: 'srm', open: 1 },
      { of_experiment: 'checkout', of_kind: 'guardrail', open: 2 },
      { of_experiment: 'search', of_kind: 'guardrail', open: 1 },
    ]);
    expect(Object.fromEntries(counts)).toEqual({
      checkout: { total: 3, byKind: { srm: 1, guardrail: 2 } },
      search: { total: 1, byKind: { guardrail: 1 } },
    });
  });

  it('has no entry for an experiment without open alerts', () => {
    expect(countsByExperiment([]).size).toBe(0);
  });
});
