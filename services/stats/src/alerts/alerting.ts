/**
 * The stats service's alerting (docs/semantics.md, "Monitoring"; services/stats/README.md, "Alerts"),
 * driven by the hosted sink: every insert it stores names the experiments it touched (`committed`), those of
 * projects with an `alerts` block are queued and coalesced (evaluation-queue.ts: at most one evaluation per
 * experiment per `minIntervalMs`, the experiments due evaluated together in rounds), evaluated against the
 * results' own figures (experiment-evaluator.ts), and
 * the transitions the state machine decides (alert-state.ts) are stored in ClickHouse, then handed to the
 * project's webhook sender (webhook-delivery.ts).
 *
 * Nothing here runs on the sink's path: `committed` only adds keys to a map. Rounds of evaluations run one at
 * a time in the background; deliveries are asynchronous and bounded per project.
 *
 * Order and restarts: a transition is stored before it counts (the in-memory open alerts change only once
 * the row is in) and before it is delivered, so what a receiver gets is always listed by GET /v1/alerts.
 * At start the open alerts are loaded back and their experiments evaluated once, so a condition that ended
 * while the service was down clears without waiting for new data. A delivery still queued when the process
 * stops is not sent after the restart (the alert is stored and listed).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { AlertWebhook } from '../../../../shared/projects/alert-settings.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import { backoffDelayMs } from '../../../../shared/retry/capped-backoff.ts';
import type { BackoffPolicy } from '../../../../shared/retry/capped-backoff.ts';
import type { CommittedChange } from '../../../sink/src/index.ts';
import { insertAlertTransitions, loadOpenAlerts } from '../storage/alerts-store.ts';
import type { AlertKind, SrmAlertDetails } from './alert-conditions.ts';
import { createAlertMetrics } from './alert-metrics.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import { experimentKey, OpenAlerts, transitionsOf } from './alert-state.ts';
import type { AlertTransition } from './alert-state.ts';
import { evaluateExperiments } from './experiment-evaluator.ts';
import type { EvaluationOutcome } from './experiment-evaluator.ts';
import { EvaluationQueue } from './evaluation-queue.ts';
import { DEFAULT_DELIVERY_POLICY, WebhookSender } from './webhook-delivery.ts';
import type { DeliveryPolicy } from './webhook-delivery.ts';

export interface AlertingPolicy {
  /** Least time between two evaluations of one experiment, ms. */
  minIntervalMs: number;
  /** Most experiments evaluated in one round (one units query per project for those without guardrails). */
  maxBatch: number;
  /** Wait before evaluating again an experiment whose evaluation failed or found the tables apart, ms. */
  retryEvaluationMs: number;
  /** Retries of storing transitions and of loading the open alerts at start. */
  storeRetry: BackoffPolicy;
  delivery: DeliveryPolicy;
}

/**
 * One evaluation per experiment per second: an alert is seconds late at most, and a busy experiment's
 * hundreds of inserts a second cost one evaluation a second. Up to 500 experiments share a round (an IN
 * list of 500 names is a few kB of query).
 */
export const DEFAULT_ALERTING_POLICY: AlertingPolicy = {
  minIntervalMs: 1_000,
  maxBatch: 500,
  retryEvaluationMs: 5_000,
  storeRetry: { initialMs: 500, maxMs: 30_000 },
  delivery: DEFAULT_DELIVERY_POLICY,
};

export interface AlertingDeps {
  catalog: { project(id: string): ProjectSettings | undefined };
  /** The projects that alert, with their secrets (resolveAlertSecrets). */
  webhooks: readonly AlertWebhook[];
  clickhouse: ClickHouseClient;
  logger: Logger;
  /** The stats process's Prometheus registry. */
  registry: Registry;
  policy?: AlertingPolicy;
  /** Wall clock, unix ms (tests). */
  now?: () => number;
  /** Injectable for tests (a receiver that is this process). */
  fetch?: typeof fetch;
}

export interface Alerting {
  /** The sink's `onCommitted`: queues the experiments of alerting projects; returns at once. */
  committed(changes: readonly CommittedChange[]): void;
  /** Stops evaluating and delivering (a delivery in flight is aborted; queued ones are not sent). */
  stop(): Promise<void>;
}

export function startAlerting(deps: AlertingDeps): Alerting {
  const service = new AlertingService(deps);
  return { committed: (changes) => service.committed(changes), stop: () => service.stop() };
}

/** Distinct configuration problems logged; past it they are no longer remembered (nor logged again). */
const MAX_PROBLEMS_REMEMBERED = 10_000;

class AlertingService {
  private readonly policy: AlertingPolicy;
  private readonly metrics: AlertMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly senders = new Map<string, WebhookSender>();
  private readonly queue: EvaluationQueue;
  private readonly stopping = new AbortController();
  private readonly problemsLogged = new Set<string>();
  private open = new OpenAlerts();
  private readonly loaded: Promise<boolean>;

  constructor(private readonly deps: AlertingDeps) {
    this.policy = deps.policy ?? DEFAULT_ALERTING_POLICY;
    this.metrics = createAlertMetrics(deps.registry);
    this.log = deps.logger.child({ component: 'alerts' });
    this.now = deps.now ?? Date.now;
    for (const webhook of deps.webhooks) {
      this.senders.set(
        webhook.project,
        new WebhookSender({
          webhook,
          policy: this.policy.delivery,
          metrics: this.metrics,
          logger: this.log,
          now: this.now,
          ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
        }),
      );
    }
    this.queue = new EvaluationQueue({
      minIntervalMs: this.policy.minIntervalMs,
      maxBatch: this.policy.maxBatch,
      run: (keys) => this.evaluate(keys),
      now: this.now,
    });
    this.loaded = this.loadOpenAlerts();
    this.log.info({ projects: [...this.senders.keys()] }, 'alerting started');
  }

  committed(changes: readonly CommittedChange[]): void {
    for (const change of changes) {
      if (this.senders.has(change.project)) this.queue.add(experimentKey(change.project, change.experiment));
    }
    this.metrics.pendingEvaluations.set(this.queue.size);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.queue.stop();
    await Promise.all([...this.senders.values()].map((s) => s.stop()));
  }

  /** Loads the open alerts (retrying while ClickHouse does not answer) and queues their experiments. */
  private async loadOpenAlerts(): Promise<boolean> {
    const projects = [...this.senders.keys()];
    for (let attempt = 1; ; attempt++) {
      try {
        const open = await loadOpenAlerts(this.deps.clickhouse, projects);
        this.open = new OpenAlerts(open);
        this.countOpen();
        for (const alert of open) this.queue.add(experimentKey(alert.project, alert.experiment));
        if (open.length > 0) this.log.info({ open: open.length }, 'open alerts loaded; re-evaluating them');
        return true;
      } catch (err) {
        const delay = backoffDelayMs(attempt, this.policy.storeRetry);
        this.log.warn({ err: messageOf(err), retryInMs: delay }, 'loading the open alerts failed; retrying');
        if (!(await this.pause(delay))) return false;
      }
    }
  }

  /** One round: the experiments due, per project; their transitions stored in one insert, then delivered. */
  private async evaluate(keys: readonly string[]): Promise<void> {
    if (!(await this.loaded) || this.stopping.signal.aborted) return;
    const started = performance.now();
    const byProject = new Map<string, string[]>();
    for (const key of keys) {
      const [project, experiment] = key.split('\u0000') as [string, string];
      const list = byProject.get(project) ?? [];
      list.push(experiment);
      byProject.set(project, list);
    }
    const transitions: AlertTransition[] = [];
    for (const [projectId, experiments] of byProject) {
      const project = this.deps.catalog.project(projectId);
      if (project === undefined) continue;
      let outcomes: Map<string, EvaluationOutcome>;
      try {
        outcomes = await evaluateExperiments(this.deps.clickhouse, project, experiments);
      } catch (err) {
        this.metrics.evaluations.inc({ outcome: 'error' }, experiments.length);
        this.log.warn(
          {
            project: projectId,
            experiments: experiments.length,
            err: messageOf(err),
            retryInMs: this.policy.retryEvaluationMs,
          },
          'alert evaluation failed; evaluating again later',
        );
        for (const experiment of experiments)
          this.queue.add(experimentKey(projectId, experiment), this.policy.retryEvaluationMs);
        continue;
      }
      for (const [experiment, outcome] of outcomes) {
        const key = experimentKey(projectId, experiment);
        if (outcome.kind === 'retry') {
          this.metrics.evaluations.inc({ outcome: 'retry' });
          this.log.debug(
            { project: projectId, experiment, reason: outcome.reason },
            'alert evaluation deferred',
          );
          this.queue.add(key, this.policy.retryEvaluationMs);
          continue;
        }
        this.metrics.evaluations.inc({ outcome: 'ok' });
        this.logProblems(key, outcome.problems, { project: projectId, experiment });
        transitions.push(
          ...transitionsOf(this.open.of(projectId, experiment), outcome.evaluation, this.now(), randomUUID),
        );
      }
    }
    this.metrics.evaluationSeconds.observe((performance.now() - started) / 1000);
    this.metrics.pendingEvaluations.set(this.queue.size);
    if (transitions.length === 0 || !(await this.store(transitions))) return;
    this.open.apply(transitions);
    this.countOpen();
    for (const t of transitions) {
      this.metrics.transitions.inc({ kind: t.kind, state: t.state });
      this.log.info(
        {
          id: t.id,
          project: t.project,
          experiment: t.experiment,
          kind: t.kind,
          metric: t.metric,
          ...(t.kind === 'srm' && t.details !== null
            ? { p_value: (t.details as SrmAlertDetails).p_value }
            : {}),
        },
        `alert ${t.state}`,
      );
      this.senders.get(t.project)?.enqueue(t);
    }
  }

  /** Stores transitions, retrying until they are in or the service stops; returns whether they are in. */
  private async store(transitions: readonly AlertTransition[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await insertAlertTransitions(this.deps.clickhouse, transitions);
        return true;
      } catch (err) {
        const delay = backoffDelayMs(attempt, this.policy.storeRetry);
        this.log[attempt === 1 ? 'warn' : 'debug'](
          { err: messageOf(err), attempt, retryInMs: delay },
          'storing alert transitions failed; retrying (nothing delivered meanwhile)',
        );
        if (!(await this.pause(delay))) return false;
      }
    }
  }

  private countOpen(): void {
    const counts: Record<AlertKind, number> = { srm: 0, guardrail: 0 };
    for (const alert of this.open.all()) counts[alert.kind] += 1;
    for (const [kind, n] of Object.entries(counts)) this.metrics.open.set({ kind }, n);
  }

  /** Each configuration problem once per experiment: evaluations repeat every second. */
  private logProblems(key: string, problems: readonly string[], context: Record<string, string>): void {
    for (const problem of problems) {
      const id = `${key}\u0000${problem}`;
      if (this.problemsLogged.has(id) || this.problemsLogged.size >= MAX_PROBLEMS_REMEMBERED) continue;
      this.problemsLogged.add(id);
      this.log.warn({ ...context, problem }, 'alert condition not checked');
    }
  }

  /** Waits `ms` unless the service stops first; returns whether it is still running. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
      return true;
    } catch {
      return false;
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
