import type { MetricConfig } from '../../../shared/projects/metric-catalog.ts';

/** A catalogue metric for tests: a mean of `purchase`, not a guardrail, higher is better, unless `extra` says otherwise. */
export function catalogueMetric(id: string, extra: Partial<MetricConfig>): MetricConfig {
  return { id, type: 'mean', event: 'purchase', guardrail: false, direction: 'increase', ...extra };
}
