/**
 * The alerts' state machine: an alert is raised once per (experiment, kind, metric) when its condition
 * starts to hold, stays open while it holds (however many evaluations confirm it), and is cleared when an
 * evaluation of its kind finds it no longer holds; the next time it holds is a new alert with a new id.
 * Pure: `transitionsOf` decides, `OpenAlerts.apply` records what was stored.
 */
import type { AlertDetails, AlertKind, ExperimentEvaluation } from './alert-conditions.ts';

export type AlertState = 'raised' | 'cleared';

/** A raised alert not cleared yet. */
export interface OpenAlert {
  id: string;
  project: string;
  experiment: string;
  kind: AlertKind;
  metric: string | null;
  /** Unix ms. */
  raisedAt: number;
}

/** A change of state: what is stored, listed and delivered. */
export interface AlertTransition {
  /** The alert's id: the same for its `raised` and its `cleared`. */
  id: string;
  project: string;
  experiment: string;
  kind: AlertKind;
  metric: string | null;
  state: AlertState;
  /** When this transition was decided, unix ms. */
  at: number;
  /** When the alert was raised, unix ms (`at` for a `raised`). */
  raisedAt: number;
  /**
   * The figures of the evaluation that decided it; null for a `cleared` whose metric is no longer watched
   * (removed from the catalogue or from the experiment's guardrails).
   */
  details: AlertDetails | null;
}

/**
 * The transitions one evaluation makes against the experiment's open alerts: a `raised` for each holding
 * condition without an open alert, a `cleared` for each open alert of a checked kind whose condition does
 * not hold (or was not observed at all: no longer watched). Open alerts of unchecked kinds are untouched.
 */
export function transitionsOf(
  open: readonly OpenAlert[],
  evaluation: ExperimentEvaluation,
  at: number,
  newId: () => string,
): AlertTransition[] {
  const { project, experiment } = evaluation;
  const transitions: AlertTransition[] = [];
  const holding = evaluation.observations.filter((o) => o.holds);
  for (const o of holding) {
    if (open.some((a) => a.kind === o.kind && a.metric === o.metric)) continue;
    const id = newId();
    transitions.push({
      id,
      project,
      experiment,
      kind: o.kind,
      metric: o.metric,
      state: 'raised',
      at,
      raisedAt: at,
      details: o.details,
    });
  }
  for (const alert of open) {
    if (!evaluation.checked[alert.kind]) continue;
    if (holding.some((o) => o.kind === alert.kind && o.metric === alert.metric)) continue;
    const observed = evaluation.observations.find((o) => o.kind === alert.kind && o.metric === alert.metric);
    transitions.push({
      id: alert.id,
      project,
      experiment,
      kind: alert.kind,
      metric: alert.metric,
      state: 'cleared',
      at,
      raisedAt: alert.raisedAt,
      details: observed?.details ?? null,
    });
  }
  return transitions;
}

/** The open alerts, by experiment: in memory, loaded from storage at start, changed by stored transitions. */
export class OpenAlerts {
  private readonly byExperiment = new Map<string, OpenAlert[]>();

  constructor(initial: readonly OpenAlert[] = []) {
    for (const alert of initial) this.add(alert);
  }

  of(project: string, experiment: string): OpenAlert[] {
    return this.byExperiment.get(experimentKey(project, experiment)) ?? [];
  }

  /** Every open alert (for metrics and re-evaluation at start). */
  all(): OpenAlert[] {
    return [...this.byExperiment.values()].flat();
  }

  /** Records transitions that are stored. */
  apply(transitions: readonly AlertTransition[]): void {
    for (const t of transitions) {
      if (t.state === 'raised') {
        this.add({
          id: t.id,
          project: t.project,
          experiment: t.experiment,
          kind: t.kind,
          metric: t.metric,
          raisedAt: t.raisedAt,
        });
        continue;
      }
      const key = experimentKey(t.project, t.experiment);
      const left = (this.byExperiment.get(key) ?? []).filter((a) => a.id !== t.id);
      if (left.length === 0) this.byExperiment.delete(key);
      else this.byExperiment.set(key, left);
    }
  }

  /**
   * One alert per (experiment, kind, metric). A second open one for the same condition can only come from
   * two processes alerting on one database (README, "Alerts", limits): the first loaded is tracked and
   * cleared, the other stays listed as open.
   */
  private add(alert: OpenAlert): void {
    const key = experimentKey(alert.project, alert.experiment);
    const list = this.byExperiment.get(key) ?? [];
    if (list.some((a) => a.id === alert.id || (a.kind === alert.kind && a.metric === alert.metric))) return;
    list.push(alert);
    this.byExperiment.set(key, list);
  }
}

/** A map key of (project, experiment); NUL cannot occur in either. */
export function experimentKey(project: string, experiment: string): string {
  return `${project}\u0000${experiment}`;
}
