/**
 * Per-key rate limits of the ingest routes (@fastify/rate-limit with a token-bucket store): each key
 * has its project's `rateLimits[role]`, else the gateway's default for the role (RATE_LIMIT_*). A
 * refused request is 429 `rate_limited` with Retry-After, counted per project and role. The check runs
 * as soon as the key is known: before the body is read for a key in the header or query string, after
 * it for a key in the body.
 *
 * Buckets live in this process: behind a load balancer with N gateways a key gets up to N times its
 * limit.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  Principal,
  ProjectCatalog,
  RateLimitSetting,
} from '../../../../shared/projects/project-catalog.ts';
import type { GatewayConfig } from '../config.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import { GatewayHttpError } from './http-errors.ts';
import { tokenBucketStore } from './token-bucket-store.ts';

export interface KeyRateLimitDeps {
  catalog: ProjectCatalog;
  defaults: GatewayConfig['defaultRateLimits'];
  metrics: GatewayMetrics;
  /** Clock of the buckets, ms (Date.now). */
  now?: () => number;
}

/** Checks one request of an authenticated key; throws 429 when the key is over its limit. */
export type KeyRateLimiter = (request: FastifyRequest, principal: Principal) => Promise<void>;

/** The limit of `principal`'s key, or undefined when it is not limited (read keys never get here). */
export function rateLimitOf(
  principal: Principal,
  defaults: GatewayConfig['defaultRateLimits'],
): RateLimitSetting | undefined {
  if (principal.role === 'read') return undefined;
  return principal.project.rateLimits[principal.role] ?? defaults[principal.role];
}

/** Registers @fastify/rate-limit on `app` (no route is limited by itself) and returns the check. */
export async function registerKeyRateLimit(
  app: FastifyInstance,
  deps: KeyRateLimitDeps,
): Promise<KeyRateLimiter> {
  const limitOf = (request: FastifyRequest): RateLimitSetting | undefined =>
    request.principal ? rateLimitOf(request.principal, deps.defaults) : undefined;
  await app.register(rateLimit, {
    global: false,
    store: tokenBucketStore(deps.now),
    keyGenerator: (request) => (request.principal as Principal).keyId,
    allowList: (request) => limitOf(request) === undefined,
    // The store reads max as the bucket size and timeWindow as the time to refill it (token-bucket-store.ts).
    max: (request) => (limitOf(request) as RateLimitSetting).burst,
    timeWindow: (request) => {
      const limit = limitOf(request) as RateLimitSetting;
      return (limit.burst / limit.perSecond) * 1000;
    },
  });
  // Each ingest role starts at 0, so rate() and alerts see a series before the first refusal.
  for (const role of ['client', 'write'] as const) deps.metrics.rateLimited.inc({ role }, 0);

  const check = app.createRateLimit();
  return async (request, principal) => {
    // Unlimited keys (write keys by default) skip the plugin's few awaits on the hot path.
    if (rateLimitOf(principal, deps.defaults) === undefined) return;
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    deps.metrics.rateLimited.inc({ role: principal.role });
    const limit = rateLimitOf(principal, deps.defaults) as RateLimitSetting;
    throw new GatewayHttpError(
      'rate_limited',
      `this ${principal.role} key of project "${principal.project.id}" sent more than ${limit.perSecond} requests per second ` +
        `(burst ${limit.burst}; the project's "rateLimits.${principal.role}"); retry after ${result.ttlInSeconds} s`,
      { retryAfterSeconds: result.ttlInSeconds },
    );
  };
}
