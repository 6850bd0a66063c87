/**
 * A token-bucket store for @fastify/rate-limit (its own LocalStore counts fixed windows, which lets a
 * key send twice its limit across a window boundary). Implemented as GCRA: per key one timestamp,
 * the "theoretical arrival time" (TAT) at which the bucket is full again.
 *
 * The plugin passes each call `max` and `timeWindow`; here they mean the bucket's size (burst) and the
 * time it takes to refill completely, ms, so one token comes back every `timeWindow / max` ms
 * (perSecond = max / timeWindow * 1000). The answer follows the plugin's contract: `current > max`
 * means refused, and `ttl` is then the wait until one request is allowed again (its Retry-After);
 * refused requests take no token, so a client that keeps retrying too early is not locked out longer.
 */
import type { FastifyRateLimitStore } from '@fastify/rate-limit';

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1];

/** A store class with clock `now` (ms; tests pass their own), one bucket per key. */
export function tokenBucketStore(now: () => number = Date.now) {
  return class TokenBucketStore implements FastifyRateLimitStore {
    // key -> TAT, ms. Keys are authenticated API keys, so the map is bounded by the project catalog.
    private readonly tat = new Map<string, number>();

    incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void {
      const t = now();
      const interval = timeWindow / max;
      const tat = Math.max(this.tat.get(key) ?? t, t);
      const next = tat + interval;
      const allowedAt = next - timeWindow;
      if (t < allowedAt) {
        callback(null, { current: max + 1, ttl: allowedAt - t });
        return;
      }
      this.tat.set(key, next);
      callback(null, { current: Math.min(max, Math.ceil((next - t) / interval - 1e-9)), ttl: next - t });
    }

    child(): FastifyRateLimitStore {
      return new TokenBucketStore();
    }
  };
}
