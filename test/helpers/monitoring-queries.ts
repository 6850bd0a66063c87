/**
 * The PromQL of the monitoring profile (deploy/monitoring/): every expression of the Grafana dashboard
 * and the alert rules, and every series selector in them, found by Prometheus's own PromQL grammar
 * (@prometheus-io/lezer-promql, the parser of Prometheus's web UI) rather than by pattern matching.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../../infra/local/paths.ts';

export const MONITORING_DIR = path.join(repoRoot, 'deploy', 'monitoring');

/** The scrape jobs, one per liftstream service; queries name one of them. */
export const JOBS = ['gateway', 'processor', 'stats'] as const;
export type Job = (typeof JOBS)[number];

/** Series Prometheus records itself about each scrape: on no service's /metrics. */
export const PROMETHEUS_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);

/** A PromQL expression and where it is written. */
export interface Query {
  /** e.g. `dashboard panel "Sink lag" A`, `alert LiftstreamSrmAlarm`. */
  where: string;
  expr: string;
}

/** One series selector of a query. */
export interface Selector {
  where: string;
  metric: string;
  /** The value of its `job="..."` matcher; null when it has none (or only a regex on job). */
  job: string | null;
}

interface DashboardPanel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: DashboardPanel[];
}

/** The provisioned dashboard, parsed. */
export function readDashboard(): { uid: string; panels: DashboardPanel[]; [key: string]: unknown } {
  const file = path.join(MONITORING_DIR, 'grafana', 'dashboards', 'liftstream.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { uid: string; panels: DashboardPanel[] };
}

/** Reads a YAML file of deploy/monitoring/ (relative path), parsed; throws on a syntax error. */
export function readMonitoringYaml<T>(relative: string): T {
  const text = fs.readFileSync(path.join(MONITORING_DIR, relative), 'utf8');
  return parseYaml(text, { strict: true, uniqueKeys: true, prettyErrors: true }) as T;
}

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readAlertRules(): AlertRule[] {
  const file = readMonitoringYaml<{ groups: { name: string; rules: AlertRule[] }[] }>('alerts.yml');
  return file.groups.flatMap((g) => g.rules);
}

/** Every PromQL expression of the dashboard (panels nested in rows included) and of the alert rules. */
export function monitoringQueries(): Query[] {
  const queries: Query[] = [];
  const visit = (panels: readonly DashboardPanel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) {
          queries.push({
            where: `dashboard panel "${panel.title ?? '?'}" ${target.refId ?? ''}`,
            expr: target.expr,
          });
        }
      }
      visit(panel.panels ?? []);
    }
  };
  visit(readDashboard().panels);
  for (const rule of readAlertRules()) {
    queries.push({
      where: rule.alert ? `alert ${rule.alert}` : `recording rule ${rule.record}`,
      expr: rule.expr,
    });
  }
  return queries;
}

/**
 * Grafana's interval variables, as Grafana replaces them before the query reaches Prometheus (any
 * valid duration will do for parsing).
 */
function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m');
}

/**
 * The series selectors of `query`. Throws, naming the query and the position, when the expression is
 * not valid PromQL or a selector has no metric name.
 */
export function selectorsOf(query: Query): Selector[] {
  const expr = withGrafanaVariables(query.expr);
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const text = (node: { from: number; to: number }) => expr.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        throw new Error(
          `${query.where}: not valid PromQL at ${ref.from}: …${expr.slice(ref.from, ref.from + 40)}`,
        );
      }
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const matchers = new Map<string, { op: string; value: string }>();
      for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const name = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (name && op && value) matchers.set(text(name), { op: text(op), value: unquote(text(value)) });
      }
      const identifier = node.getChild('Identifier');
      const byName = matchers.get('__name__');
      const metric = identifier ? text(identifier) : byName?.op === '=' ? byName.value : null;
      if (metric === null) throw new Error(`${query.where}: a selector without a metric name: ${text(node)}`);
      const job = matchers.get('job');
      selectors.push({ where: query.where, metric, job: job?.op === '=' ? job.value : null });
    },
  });
  return selectors;
}

/** A PromQL string literal's value ("..." and '...' with backslash escapes, `...` raw). */
function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}
