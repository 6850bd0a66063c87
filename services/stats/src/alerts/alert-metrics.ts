/**
 * The alerts' Prometheus metrics. No project or experiment label, like every series of the stats service:
 * /metrics answers without a key (which alerts are open is in GET /v1/alerts, behind a read key), and the
 * number of series stays fixed whatever names producers send.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** What became of a delivery: sent (2xx), given up (refused or out of time), or pushed out of a full queue. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';
/** What one POST gave: a 2xx, a status worth retrying (5xx, 408, 429), another status, a timeout, no connection. */
export type AttemptResult = 'ok' | 'retryable_status' | 'refused_status' | 'timeout' | 'network_error';

export interface AlertMetrics {
  readonly transitions: Counter<'kind' | 'state'>;
  readonly open: Gauge<'kind'>;
  readonly evaluations: Counter<'outcome'>;
  readonly evaluationSeconds: Histogram;
  readonly pendingEvaluations: Gauge;
  readonly deliveries: Counter<'outcome'>;
  readonly attempts: Counter<'result'>;
  readonly deliveryDelaySeconds: Histogram;
  readonly queued: Gauge;
}

export function createAlertMetrics(registry: Registry): AlertMetrics {
  const registers = [registry];
  return {
    transitions: new Counter({
      name: 'liftstream_stats_alert_transitions_total',
      help: 'Alerts raised and cleared (stored), by kind (srm, guardrail) and state (raised, cleared)',
      labelNames: ['kind', 'state'] as const,
      registers,
    }),
    open: new Gauge({
      name: 'liftstream_stats_alerts_open',
      help: 'Alerts raised and not cleared, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    evaluations: new Counter({
      name: 'liftstream_stats_alert_evaluations_total',
      help: "Evaluations of an experiment's alert conditions after the sink stored its rows, by outcome (ok, retry, error)",
      labelNames: ['outcome'] as const,
      registers,
    }),
    evaluationSeconds: new Histogram({
      name: 'liftstream_stats_alert_evaluation_duration_seconds',
      help: 'Time of one round of alert evaluations (the experiments due together: ClickHouse queries and statistics)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    pendingEvaluations: new Gauge({
      name: 'liftstream_stats_alert_evaluations_pending',
      help: 'Experiments whose data changed and whose evaluation is waiting',
      registers,
    }),
    deliveries: new Counter({
      name: 'liftstream_stats_alert_deliveries_total',
      help: 'Webhook deliveries by outcome: delivered (2xx), failed (refused or retried out of time), dropped (oldest of a full queue)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    attempts: new Counter({
      name: 'liftstream_stats_alert_delivery_attempts_total',
      help: 'Webhook POSTs by result: ok, retryable_status (5xx, 408, 429), refused_status, timeout, network_error',
      labelNames: ['result'] as const,
      registers,
    }),
    deliveryDelaySeconds: new Histogram({
      name: 'liftstream_stats_alert_delivery_delay_seconds',
      help: 'From the transition being decided to its webhook answering 2xx (retries included)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    queued: new Gauge({
      name: 'liftstream_stats_alert_deliveries_queued',
      help: 'Webhook deliveries waiting or being retried, over all projects',
      registers,
    }),
  };
}
