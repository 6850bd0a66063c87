import { describe, expect, it } from 'vitest';
import type { GaugeSample } from '../../../bench/soak/pipeline-gauges.ts';
import { lagVerdict, memoryVerdict, trend } from '../../../bench/soak/soak-report.ts';

/** Samples every 30 s for `minutes`, carrying value(minute) in rssMb.gateway. */
function series(minutes: number, value: (minute: number) => number): GaugeSample[] {
  const out: GaugeSample[] = [];
  for (let t = 0; t <= minutes * 60_000; t += 30_000)
    out.push({ atMs: t, rssMb: { gateway: value(t / 60_000) } } as unknown as GaugeSample);
  return out;
}
const gateway = (s: GaugeSample): number => s.rssMb.gateway;

/** A repeatable sawtooth plus jitter, like a heap between collections (no Math.random: fixed). */
const sawtooth = (m: number): number => ((m * 7) % 3) * 4 + Math.sin(m * 13) * 2;

describe('soak verdicts', () => {
  it('reads a 1 MB/min leak under a garbage-collection sawtooth as growth, over 20 minutes', () => {
    const t = trend(
      series(20, (m) => 300 + m + sawtooth(m)),
      gateway,
    );
    expect(t?.slope).toBeCloseTo(1, 0);
    expect(memoryVerdict(t)).toBe('GROWING');
  });

  it('reads a 1 MB/min leak in a 3 GB process as growth (no threshold relative to size)', () => {
    expect(
      memoryVerdict(
        trend(
          series(20, (m) => 3_000 + m + sawtooth(m)),
          gateway,
        ),
      ),
    ).toBe('GROWING');
  });

  it('reads the same sawtooth without a leak as flat', () => {
    expect(
      memoryVerdict(
        trend(
          series(20, (m) => 300 + sawtooth(m)),
          gateway,
        ),
      ),
    ).toBe('flat');
  });

  it('reads lag growing by 866 records/min, the case once printed "bounded", as growth', () => {
    const t = trend(
      series(20, (m) => 2_000 + 866 * m + 500 * Math.sin(m * 5)),
      gateway,
    );
    expect(lagVerdict(t)).toBe('GROWING');
  });

  it('reads lag growing by a record a second (60/min) as bounded, and by 2 a second as growth', () => {
    expect(
      lagVerdict(
        trend(
          series(20, (m) => 60 * m),
          gateway,
        ),
      ),
    ).toBe('bounded');
    expect(
      lagVerdict(
        trend(
          series(20, (m) => 120 * m),
          gateway,
        ),
      ),
    ).toBe('GROWING');
  });

  it('reads lag that swings around a level as bounded', () => {
    expect(
      lagVerdict(
        trend(
          series(20, (m) => 3_000 + 2_000 * Math.sin(m * 3)),
          gateway,
        ),
      ),
    ).toBe('bounded');
  });

  it('gives no verdict on fewer than three samples', () => {
    expect(
      memoryVerdict(
        trend(
          series(0.5, () => 1),
          gateway,
        ),
      ),
    ).toBe('no verdict');
  });
});
