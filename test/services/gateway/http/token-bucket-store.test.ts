import { describe, expect, it } from 'vitest';
import { tokenBucketStore } from '../../../../services/gateway/src/http/token-bucket-store.ts';

/** A store on a hand-moved clock; `take` answers like the plugin reads it. */
function bucket(perSecond: number, burst: number) {
  let now = 1_000_000;
  const Store = tokenBucketStore(() => now);
  const store = new Store();
  const timeWindow = (burst / perSecond) * 1000;
  const take = (key = 'k'): { allowed: boolean; ttl: number; remaining: number } => {
    let answer = { current: 0, ttl: 0 };
    store.incr(key, (_err, res) => (answer = res as typeof answer), timeWindow, burst);
    return {
      allowed: answer.current <= burst,
      ttl: answer.ttl,
      remaining: Math.max(0, burst - answer.current),
    };
  };
  return { take, advance: (ms: number) => (now += ms) };
}

describe('token bucket store', () => {
  it('allows a burst at once, then refuses', () => {
    const b = bucket(10, 5);
    const answers = Array.from({ length: 6 }, () => b.take().allowed);
    expect(answers).toEqual([true, true, true, true, true, false]);
  });

  it('says how long until the next request is allowed (one token = 1/perSecond s)', () => {
    const b = bucket(10, 5);
    for (let i = 0; i < 5; i++) b.take();
    const refused = b.take();
    expect(refused.allowed).toBe(false);
    expect(refused.ttl).toBeCloseTo(100, 6);
    b.advance(99);
    expect(b.take().allowed, 'still 1 ms early').toBe(false);
    b.advance(1);
    expect(b.take().allowed, 'one token back').toBe(true);
    expect(b.take().allowed, 'only one').toBe(false);
  });

  it('sustains exactly perSecond over time', () => {
    const b = bucket(50, 10);
    let allowed = 0;
    for (let ms = 0; ms < 10_000; ms++) {
      if (b.take().allowed) allowed++;
      b.advance(1);
    }
    // 10 s at 50/s plus the initial burst of 10
    expect(allowed).toBeGreaterThanOrEqual(509);
    expect(allowed).toBeLessThanOrEqual(511);
  });

  it('does not charge refused requests: a client retrying too early is not locked out longer', () => {
    const b = bucket(1, 1);
    b.take();
    for (let i = 0; i < 100; i++) b.take();
    b.advance(1000);
    expect(b.take().allowed).toBe(true);
  });

  it('refills to the burst at most after idling', () => {
    const b = bucket(10, 3);
    b.advance(60_000);
    expect([b.take(), b.take(), b.take(), b.take()].map((a) => a.allowed)).toEqual([true, true, true, false]);
  });

  it('keeps one bucket per key', () => {
    const b = bucket(1, 1);
    expect(b.take('a').allowed).toBe(true);
    expect(b.take('a').allowed).toBe(false);
    expect(b.take('b').allowed).toBe(true);
  });

  it('reports what remains of the burst', () => {
    const b = bucket(10, 5);
    expect(b.take().remaining).toBe(4);
    expect(b.take().remaining).toBe(3);
  });
});
