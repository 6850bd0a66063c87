import { describe, expect, it } from 'vitest';
import type { ProbeTimes } from '../../../bench/soak/freshness-probe.ts';
import {
  freshnessSamples,
  freshnessVerdict,
  histogramQuantiles,
} from '../../../bench/soak/freshness-split.ts';
import type { ProbeKafkaTimes } from '../../../bench/soak/probe-watcher.ts';

const complete: ProbeTimes = { sentAt: 1_000, ackAt: 1_010, pollStartAt: 1_300, visibleAt: 1_340 };
const kafka: ProbeKafkaTimes = {
  ingestTs: 1_008,
  ingestSeenAt: 1_011,
  outputTs: 1_050,
  outputSeenAt: 1_060,
  outputs: new Set(['exposures', 'attributed']),
};

describe('freshnessSamples', () => {
  it('splits ack → visible into processor, sink and query, and keeps sent → visible apart', () => {
    const { samples, incomplete } = freshnessSamples([complete], new Map([[0, kafka]]));
    expect(incomplete).toBe(0);
    expect(samples[0]).toEqual({
      gateway: 10,
      processor: 50,
      sink: 240,
      query: 40,
      total: 330,
      sentToVisible: 340,
      processorProduce: 42,
      processorCommit: 10,
    });
    const s = samples[0] as NonNullable<(typeof samples)[0]>;
    expect(s.processor + s.sink + s.query, 'the stages add up to the total').toBe(s.total);
  });

  it('leaves out, and counts, probes not acknowledged, not visible or missing an output row', () => {
    const probes: ProbeTimes[] = [
      complete,
      { sentAt: 2_000 }, // 503 after every attempt: no ack
      { sentAt: 3_000, ackAt: 3_010 }, // never visible
      complete,
    ];
    const times = new Map([
      [0, kafka],
      [2, kafka],
      [3, { ...kafka, outputs: new Set(['exposures'] as const) }], // its attributed row never seen
    ]);
    expect(freshnessSamples(probes, times)).toMatchObject({ incomplete: 3 });
  });
});

describe('freshnessVerdict', () => {
  const sample = (total: number) => ({
    gateway: 0,
    processor: 0,
    sink: total,
    query: 0,
    total,
    sentToVisible: total,
    processorProduce: 0,
    processorCommit: 0,
  });

  it('says met only when the p99 is below the bar, and MISSED otherwise or without samples', () => {
    const fast = Array.from({ length: 100 }, (_, i) => sample(100 + i));
    expect(freshnessVerdict('idle', fast, 500)).toMatch(/bar p99 < 500 ms: met$/);
    expect(freshnessVerdict('idle', [...fast.slice(2), sample(600), sample(700)], 500)).toMatch(/MISSED$/);
    expect(freshnessVerdict('idle', [], 500)).toMatch(/MISSED \(no sample\)$/);
  });
});

describe('histogramQuantiles', () => {
  it('reads the bucket bounds of the quantiles from the difference of two scrapes', () => {
    const series = (le: string) => `age_bucket{table="exposures",le="${le}"}`;
    const before = new Map([
      [series('0.1'), 5],
      [series('0.5'), 5],
      [series('+Inf'), 5],
    ]);
    const after = new Map([
      [series('0.1'), 55],
      [series('0.5'), 104],
      [series('+Inf'), 105],
    ]);
    expect(histogramQuantiles(before, after, 'age', 'table="exposures"', [0.5, 0.99, 1])).toEqual({
      count: 100,
      bounds: [0.1, 0.5, Infinity],
    });
  });
});
