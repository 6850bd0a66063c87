import { describe, expect, it } from 'vitest';
import type { CatalogueAnswer, MetricDefinition } from '../../ui/src/api-types.ts';
import { MAX_METRICS, sourceOf } from '../../ui/src/source.ts';

const metric = (id: string): MetricDefinition => ({
  id,
  type: 'count',
  event: 'page_view',
  guardrail: false,
  direction: 'increase',
});
const catalogue = (over: Partial<CatalogueAnswer> = {}): CatalogueAnswer => ({
  project: 'shop',
  dimensions: [],
  metrics: ['a', 'b', 'c'].map(metric),
  experiments: { checkout: { metrics: ['a', 'b'], guardrails: ['c', 'a'] } },
  ...over,
});

describe('what the experiment page shows', () => {
  it("shows the experiment's metric set by default, goal metrics then guardrails, once each", () => {
    expect(sourceOf({}, catalogue(), 'checkout')).toEqual({ kind: 'set', metrics: ['a', 'b', 'c'] });
  });

  it('shows the catalogue (at most 20) for an experiment without a set, and asks for an event without a catalogue', () => {
    const many = catalogue({ metrics: Array.from({ length: 25 }, (_, i) => metric(`m${i}`)) });
    expect(sourceOf({}, many, 'other')).toEqual({
      kind: 'metrics',
      metrics: Array.from({ length: MAX_METRICS }, (_, i) => `m${i}`),
    });
    expect(sourceOf({}, catalogue({ metrics: [], experiments: {} }), 'other')).toEqual({
      kind: 'event',
      event: undefined,
    });
  });

  it('follows the URL: named metrics the catalogue knows, or an event', () => {
    expect(sourceOf({ metrics: ['c', 'zzz', 'a'] }, catalogue(), 'checkout')).toEqual({
      kind: 'metrics',
      metrics: ['c', 'a'],
    });
    expect(sourceOf({ event: 'purchase', metrics: ['a'] }, catalogue(), 'checkout')).toEqual({
      kind: 'event',
      event: 'purchase',
    });
  });

  it('loads a named view before the catalogue arrives, and waits for it otherwise', () => {
    expect(sourceOf({ metrics: ['a', 'zzz'] }, undefined, 'checkout')).toEqual({
      kind: 'metrics',
      metrics: ['a', 'zzz'],
    });
    expect(sourceOf({ event: 'purchase' }, undefined, 'checkout')).toEqual({
      kind: 'event',
      event: 'purchase',
    });
    expect(sourceOf({}, undefined, 'checkout')).toBeUndefined();
  });
});
