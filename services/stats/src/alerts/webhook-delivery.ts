/**
 * Delivers a project's alert transitions to its webhook: HTTP POST of the JSON payload, signed
 * (webhook-signature.ts), one delivery at a time and in order (a `cleared` never overtakes its `raised`),
 * retried with capped exponential backoff on a timeout, a connection failure, 5xx, 408 or 429.
 *
 * A receiver that is down never holds anything else up: `enqueue` only appends to this project's queue and
 * returns; the evaluations and the sink go on. The queue is bounded: when it is full the oldest waiting
 * delivery is dropped, counted (`liftstream_stats_alert_deliveries_total{outcome="dropped"}`) and logged with
 * its alert id; the alert itself stays stored and listed by GET /v1/alerts. A delivery still unanswered
 * `giveUpAfterMs` after its first attempt, or refused with another status (a 4xx: the receiver will not take
 * it however often it is sent), is given up (`outcome="failed"`). Logs name the receiver by its origin only:
 * a webhook URL's path may hold a token.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { AlertWebhook } from '../../../../shared/projects/alert-settings.ts';
import { backoffDelayMs } from '../../../../shared/retry/capped-backoff.ts';
import type { BackoffPolicy } from '../../../../shared/retry/capped-backoff.ts';
import type { AlertMetrics, AttemptResult } from './alert-metrics.ts';
import { toAlertPayload } from './alert-payload.ts';
import type { AlertTransition } from './alert-state.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';

export interface DeliveryPolicy {
  /** Longest wait for the receiver's answer to one POST, ms. */
  timeoutMs: number;
  /** Delays between attempts: initialMs·2^(n−1) capped at maxMs, with jitter (shared/retry/capped-backoff.ts). */
  retry: BackoffPolicy;
  /** A delivery not answered 2xx this long after its first attempt is given up, ms. */
  giveUpAfterMs: number;
  /** Deliveries waiting per project besides the one being sent; past it the oldest is dropped. */
  queueSize: number;
}

/**
 * 5 s: a receiver answers a POST of a few hundred bytes well within it. Retries 1 s, 2 s, ... up to a minute
 * apart, for an hour: a receiver restarted or briefly down gets the alert late rather than never, and an
 * alert older than an hour is better read in GET /v1/alerts. 1,000 waiting deliveries per project is hours
 * of alerts at any realistic rate, and a few hundred kB.
 */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  timeoutMs: 5_000,
  retry: { initialMs: 1_000, maxMs: 60_000 },
  giveUpAfterMs: 3_600_000,
  queueSize: 1_000,
};

/** What an HTTP status means for a delivery: 2xx delivered; 408, 429 and 5xx worth retrying; else refused. */
export function classifyStatus(status: number): AttemptResult {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retryable_status';
  return 'refused_status';
}

/**
 * The wait before the next attempt, ms, or null to stop: after `ok` or `refused_status`, or when the wait
 * would end past `giveUpAfterMs` from the first attempt. A receiver's Retry-After is honoured up to the
 * backoff's cap.
 * @param attempt the attempt that just failed, 1 for the first
 */
export function retryDelayMs(
  result: AttemptResult,
  attempt: number,
  elapsedMs: number,
  policy: Pick<DeliveryPolicy, 'retry' | 'giveUpAfterMs'>,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number | null {
  if (result === 'ok' || result === 'refused_status') return null;
  const backoff = backoffDelayMs(attempt, policy.retry, random);
  const delay =
    retryAfterMs === null ? backoff : Math.max(backoff, Math.min(retryAfterMs, policy.retry.maxMs));
  return elapsedMs + delay > policy.giveUpAfterMs ? null : delay;
}

/** Retry-After in seconds (the HTTP-date form is not worth parsing here), ms; null when absent or malformed. */
export function retryAfterMsOf(header: string | null): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Number(header.trim()) * 1000;
}

export interface WebhookSenderDeps {
  webhook: AlertWebhook;
  policy: DeliveryPolicy;
  metrics: AlertMetrics;
  logger: Logger;
  /** Injectable for tests. */
  fetch?: typeof fetch;
  /** Wall clock, unix ms. */
  now?: () => number;
}

interface Attempt {
  result: AttemptResult;
  status: number | null;
  retryAfterMs: number | null;
  error: string | null;
}

/** One project's delivery queue and the loop that drains it. */
export class WebhookSender {
  private readonly waiting: AlertTransition[] = [];
  private readonly stopping = new AbortController();
  private draining: Promise<void> = Promise.resolve();
  private running = false;
  private inFlight = false;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: WebhookSenderDeps) {
    this.now = deps.now ?? Date.now;
    this.fetch = deps.fetch ?? fetch;
    this.log = deps.logger.child({ project: deps.webhook.project, receiver: originOf(deps.webhook.url) });
  }

  /** Deliveries waiting or being sent. */
  get depth(): number {
    return this.waiting.length + (this.inFlight ? 1 : 0);
  }

  /** Appends a transition and returns at once; drops the oldest waiting one when the queue is full. */
  enqueue(transition: AlertTransition): void {
    if (this.stopping.signal.aborted) return;
    if (this.waiting.length >= this.deps.policy.queueSize) {
      const dropped = this.waiting.shift() as AlertTransition;
      this.deps.metrics.deliveries.inc({ outcome: 'dropped' });
      this.deps.metrics.queued.dec();
      this.log.warn(
        { id: dropped.id, state: dropped.state, queueSize: this.deps.policy.queueSize },
        'alert delivery queue full: the oldest waiting delivery is dropped (the alert stays listed by GET /v1/alerts)',
      );
    }
    this.waiting.push(transition);
    this.deps.metrics.queued.inc();
    this.kick();
  }

  /** Stops at once: the POST in flight is aborted, waiting deliveries are abandoned (and logged). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.draining;
    if (this.waiting.length > 0) {
      this.log.warn(
        { abandoned: this.waiting.map((t) => `${t.id}:${t.state}`) },
        'stopping with alert deliveries not sent (the alerts stay listed by GET /v1/alerts)',
      );
      this.deps.metrics.queued.dec(this.waiting.length);
      this.waiting.length = 0;
    }
  }

  /** Starts the drain loop unless it runs; one enqueued while it was finishing is picked up by `finally`. */
  private kick(): void {
    if (this.running || this.stopping.signal.aborted) return;
    this.running = true;
    this.draining = this.drain().finally(() => {
      this.running = false;
      if (this.waiting.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = this.waiting.shift();
      if (next === undefined || this.stopping.signal.aborted) {
        if (next !== undefined) this.waiting.unshift(next);
        return;
      }
      this.inFlight = true;
      try {
        await this.deliver(next);
      } finally {
        this.inFlight = false;
        this.deps.metrics.queued.dec();
      }
    }
  }

  private async deliver(transition: AlertTransition): Promise<void> {
    const body = JSON.stringify(toAlertPayload(transition));
    const firstAttemptAt = this.now();
    const what = { id: transition.id, state: transition.state, kind: transition.kind };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.post(body);
      if (this.stopping.signal.aborted) return;
      this.deps.metrics.attempts.inc({ result: outcome.result });
      if (outcome.result === 'ok') {
        this.deps.metrics.deliveries.inc({ outcome: 'delivered' });
        this.deps.metrics.deliveryDelaySeconds.observe(Math.max(0, this.now() - transition.at) / 1000);
        this.log.info({ ...what, attempts: attempt }, 'alert delivered');
        return;
      }
      const delay = retryDelayMs(
        outcome.result,
        attempt,
        this.now() - firstAttemptAt,
        this.deps.policy,
        outcome.retryAfterMs,
      );
      const failure = { ...what, attempt, status: outcome.status, err: outcome.error };
      if (delay === null) {
        this.deps.metrics.deliveries.inc({ outcome: 'failed' });
        this.log.error(
          failure,
          outcome.result === 'refused_status'
            ? 'alert delivery refused by the receiver; given up (the alert stays listed by GET /v1/alerts)'
            : 'alert delivery still failing after the retry period; given up (the alert stays listed by GET /v1/alerts)',
        );
        return;
      }
      this.log[attempt === 1 ? 'warn' : 'debug'](
        { ...failure, retryInMs: delay },
        'alert delivery failed; retrying',
      );
      try {
        await sleep(delay, undefined, { signal: this.stopping.signal });
      } catch {
        return; // stopped
      }
    }
  }

  private async post(body: string): Promise<Attempt> {
    const { webhook, policy } = this.deps;
    const timestampS = Math.floor(this.now() / 1000);
    try {
      const response = await this.fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'liftstream-alerts/1',
          [SIGNATURE_HEADER]: signatureHeader(body, webhook.secret, timestampS),
        },
        body,
        // A redirect is an answer (3xx, refused): following it would send the signed alert elsewhere.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(policy.timeoutMs), this.stopping.signal]),
      });
      // The body is not read, only released, so a slow or huge answer costs nothing.
      await response.body?.cancel().catch(() => undefined);
      return {
        result: classifyStatus(response.status),
        status: response.status,
        retryAfterMs: retryAfterMsOf(response.headers.get('retry-after')),
        error: null,
      };
    } catch (err) {
      const timedOut = (err as { name?: unknown } | null)?.name === 'TimeoutError';
      return {
        result: timedOut ? 'timeout' : 'network_error',
        status: null,
        retryAfterMs: null,
        error: causeOf(err),
      };
    }
  }
}

/** scheme://host:port of a URL: what logs may show of a webhook. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
