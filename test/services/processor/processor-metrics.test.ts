import { describe, expect, it } from 'vitest';
import { ProcessorMetrics } from '../../../services/processor/src/processor-metrics.ts';

async function series(metrics: ProcessorMetrics, name: string): Promise<Map<string, number>> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const out = new Map<string, number>();
  for (const v of metric?.values ?? []) {
    // Histogram values carry their series name (_bucket, _sum, _count), which the type leaves out.
    const series = (v as { metricName?: string }).metricName ?? name;
    const le = (v.labels as { le?: number | string }).le;
    out.set(`${series}${le === undefined ? '' : `{le=${le}}`}`, v.value);
  }
  return out;
}

describe('ProcessorMetrics', () => {
  it('observes event ages in seconds and counts a clock ahead of this host as age 0', async () => {
    const metrics = new ProcessorMetrics(() => ({ identity: 0, units: 0 }));
    metrics.observeEventAges([9_000, 10_000, 10_500], 10_000);
    const s = await series(metrics, 'liftstream_processor_event_age_seconds');
    expect(s.get('liftstream_processor_event_age_seconds_count'), 'one observation per event').toBe(3);
    expect(s.get('liftstream_processor_event_age_seconds_sum'), '1 s + 0 + 0 (clamped)').toBe(1);
    expect(s.get('liftstream_processor_event_age_seconds_bucket{le=0.01}'), 'the two of age 0').toBe(2);
  });
});
