import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import {
  CACHE_MS,
  WAIT_MS,
  registerSrmAlarmGauge,
} from '../../../../services/stats/src/metrics/srm-alarm-gauge.ts';
import type { ExperimentSummary } from '../../../../services/stats/src/storage/experiments-query.ts';

const NOW = 1_900_000_000_000;
const skewed: ExperimentSummary = {
  experiment: 'checkout',
  variations: [
    { variation: 'a', units: 600 },
    { variation: 'b', units: 400 },
  ],
  units: 1000,
  multipleExposureUnits: 0,
  firstExposureAt: NOW - 3_600_000,
  lastExposureAt: NOW - 60_000,
};

function setup(list: (project: string) => Promise<ExperimentSummary[]>) {
  const registry = new Registry();
  let now = NOW;
  const listExperiments = vi.fn(list);
  registerSrmAlarmGauge({
    registry,
    catalog: { projects: () => [{ id: 'shop', expectedSplit: {} }] },
    listExperiments,
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return {
    registry,
    listExperiments,
    advance(ms: number) {
      now += ms;
    },
    /** [alarming, running] as both gauges publish them. */
    scrape: async () => {
      const all = await registry.getMetricsAsJSON();
      const value = (name: string) => all.find((m) => m.name === name)?.values[0]?.value;
      return [value('liftstream_stats_srm_alarms'), value('liftstream_stats_running_experiments')];
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('liftstream_stats_srm_alarms and liftstream_stats_running_experiments', () => {
  it('count the running experiments in SRM and all the running ones, naming none of them', async () => {
    const balanced: ExperimentSummary = {
      ...skewed,
      experiment: 'banner',
      variations: [
        { variation: 'a', units: 500 },
        { variation: 'b', units: 500 },
      ],
    };
    const gauge = setup(async () => [skewed, balanced]);
    expect(await gauge.scrape()).toEqual([1, 2]);
    const text = await gauge.registry.metrics();
    expect(text).not.toMatch(/checkout|banner|shop/);
  });

  it('lists the experiments at most once per cache period, however often it is scraped', async () => {
    const gauge = setup(async () => [skewed]);
    await Promise.all([gauge.scrape(), gauge.scrape(), gauge.scrape()]);
    gauge.advance(CACHE_MS - 1);
    await gauge.scrape();
    expect(gauge.listExperiments, 'one listing for four scrapes within the period').toHaveBeenCalledTimes(1);
    gauge.advance(1);
    await gauge.scrape();
    expect(gauge.listExperiments, 'recomputed once the period is over').toHaveBeenCalledTimes(2);
  });

  it('answers a scrape after WAIT_MS with what it had when the listing is slow, and uses the listing later', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let release: (rows: ExperimentSummary[]) => void = () => undefined;
    const gauge = setup(() => new Promise((resolve) => (release = resolve)));
    const first = gauge.scrape();
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    expect(await first, 'nothing computed yet').toEqual([0, 0]);
    release([skewed]);
    await vi.advanceTimersByTimeAsync(0);
    expect(await gauge.scrape()).toEqual([1, 1]);
    expect(gauge.listExperiments).toHaveBeenCalledTimes(1);
  });

  it('keeps the previous alarms while ClickHouse does not answer', async () => {
    let fail = false;
    const gauge = setup(async () => {
      if (fail) throw new Error('ECONNREFUSED');
      return [skewed];
    });
    await gauge.scrape();
    fail = true;
    gauge.advance(CACHE_MS);
    expect(await gauge.scrape()).toEqual([1, 1]);
    expect(gauge.listExperiments).toHaveBeenCalledTimes(2);
  });
});
