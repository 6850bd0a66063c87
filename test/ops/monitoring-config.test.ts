/**
 * The monitoring profile's files, checked without Docker: Prometheus's scrape config and alert rules, the
 * Grafana provisioning and dashboard parse; every PromQL expression is valid and names the job of one
 * liftstream service; the compose services of the profile are pinned, local-only and need a password.
 * Whether the metrics the queries name exist is checked against live services in
 * monitoring-metrics.integration.test.ts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../infra/local/paths.ts';
import {
  JOBS,
  MONITORING_DIR,
  PROMETHEUS_SERIES,
  monitoringQueries,
  readAlertRules,
  readDashboard,
  readMonitoringYaml,
  selectorsOf,
} from '../helpers/monitoring-queries.ts';

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
}

describe('deploy/monitoring', () => {
  const prometheus = readMonitoringYaml<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>(
    'prometheus.yml',
  );

  it('scrapes the gateway and stats by name and every processor replica by DNS, one job each', () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((c) => [c.job_name, c]));
    expect(Object.keys(jobs).sort(), 'one job per service').toEqual([...JOBS].sort());
    expect(jobs['gateway']?.static_configs).toEqual([{ targets: ['gateway:8080'] }]);
    expect(jobs['stats']?.static_configs).toEqual([{ targets: ['stats:8090'] }]);
    expect(jobs['processor']?.static_configs, 'replicas have no fixed address').toBeUndefined();
    expect(jobs['processor']?.dns_sd_configs).toMatchObject([
      { names: ['processor'], type: 'A', port: 8070 },
    ]);
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
  });

  it('has alert rules with a duration, a severity and a summary', () => {
    const rules = readAlertRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.alert, 'alert rules only').toMatch(/^Liftstream[A-Za-z0-9]+$/);
      expect(rule.for, `${rule.alert}: for`).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], `${rule.alert}: severity`).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], `${rule.alert}: summary`).toBeTruthy();
    }
  });

  it('has promtool tests (alerts.test.yml) only for rules that exist, and one for each rule but the simplest', () => {
    const names = new Set(readAlertRules().map((r) => r.alert ?? `recording rule ${r.record}`));
    const tests = readMonitoringYaml<{
      rule_files: string[];
      tests: { alert_rule_test: { alertname: string }[] }[];
    }>('alerts.test.yml');
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    expect(
      [...tested].filter((a) => !names.has(a)),
      'tests of rules that do not exist',
    ).toEqual([]);
    expect(
      [...names].filter((a) => !tested.has(a)),
      'untested rules',
    ).toEqual(['LiftstreamSinkLagGrowing', 'LiftstreamTargetDown']);
  });

  it('provisions the Prometheus data source under the uid every dashboard panel uses', () => {
    const sources = readMonitoringYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(sources).toMatchObject([
      { uid: 'liftstream-prometheus', type: 'prometheus', url: 'http://prometheus:9090' },
    ]);
    const uids = new Set<string>();
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (typeof value === 'object' && value !== null) {
        const ds = (value as { datasource?: { uid?: string } }).datasource;
        if (ds?.uid !== undefined) uids.add(ds.uid);
        Object.values(value).forEach(visit);
      }
    };
    visit(readDashboard());
    expect([...uids]).toEqual(['liftstream-prometheus']);
  });

  it('provisions the dashboards folder that compose mounts', () => {
    const providers = readMonitoringYaml<{ providers: { type: string; options: { path: string } }[] }>(
      'grafana/provisioning/dashboards/liftstream.yml',
    ).providers;
    expect(providers).toMatchObject([{ type: 'file', options: { path: '/etc/grafana/dashboards' } }]);
    expect(fs.readdirSync(path.join(MONITORING_DIR, 'grafana', 'dashboards'))).toEqual(['liftstream.json']);
  });

  it('writes only valid PromQL, each selector naming the job of a liftstream service', () => {
    const problems: string[] = [];
    for (const query of monitoringQueries()) {
      let selectors;
      try {
        selectors = selectorsOf(query);
      } catch (err) {
        problems.push((err as Error).message);
        continue;
      }
      if (selectors.length === 0) problems.push(`${query.where}: no series selector`);
      for (const s of selectors) {
        if (PROMETHEUS_SERIES.has(s.metric)) continue;
        if (s.job === null || !(JOBS as readonly string[]).includes(s.job)) {
          problems.push(`${s.where}: ${s.metric} names no job="gateway|processor|stats"`);
        }
        if (!s.metric.startsWith('liftstream_'))
          problems.push(`${s.where}: ${s.metric} lacks the liftstream_ prefix`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has a panel for each item of the monitoring profile', () => {
    const metrics = new Set(monitoringQueries().flatMap((q) => selectorsOf(q).map((s) => s.metric)));
    const items: Record<string, string> = {
      'ingest rate': 'liftstream_gateway_events_total',
      '503s': 'liftstream_gateway_http_requests_total',
      'processor lag': 'liftstream_processor_consumer_lag',
      'processor freshness': 'liftstream_processor_event_age_seconds_bucket',
      'sink freshness': 'liftstream_sink_record_age_seconds_bucket',
      'sink lag': 'liftstream_sink_consumer_lag',
      corrections: 'liftstream_processor_corrections_total',
      'SRM alarms': 'liftstream_stats_srm_alarms',
    };
    const missing = Object.entries(items).filter(([, metric]) => !metrics.has(metric));
    expect(missing, 'items without a query of their metric').toEqual([]);
  });
});

describe('docker-compose.yml, monitoring profile', () => {
  interface Service {
    image?: string;
    profiles?: string[];
    ports?: string[];
    volumes?: string[];
    environment?: Record<string, string>;
    entrypoint?: string[];
    healthcheck?: unknown;
    restart?: string;
  }
  const text = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
  const services = (parseYaml(text, { merge: true }) as { services: Record<string, Service> }).services;

  for (const name of ['prometheus', 'grafana']) {
    it(`runs ${name} only with --profile monitoring, pinned, on 127.0.0.1 by default, with a health check`, () => {
      const service = services[name];
      expect(service, `${name} service`).toBeDefined();
      expect(service?.profiles).toEqual(['monitoring']);
      expect(service?.image, 'a pinned version tag').toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
      expect(service?.restart).toBe('unless-stopped');
      expect(service?.healthcheck).toBeDefined();
      for (const port of service?.ports ?? []) {
        expect(port, 'bound to LIFTSTREAM_BIND_ADDRESS, loopback by default').toMatch(
          /^\$\{LIFTSTREAM_BIND_ADDRESS:-127\.0\.0\.1\}:\d+:\d+$/,
        );
      }
      for (const volume of service?.volumes ?? []) {
        if (volume.startsWith('./')) expect(volume, 'configuration mounted read-only').toMatch(/:ro$/);
      }
    });
  }

  it('mounts the files of deploy/monitoring where Prometheus and Grafana read them', () => {
    expect(services['prometheus']?.volumes).toEqual(
      expect.arrayContaining([
        './deploy/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro',
      ]),
    );
    expect(services['grafana']?.volumes).toEqual(
      expect.arrayContaining([
        './deploy/monitoring/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/monitoring/grafana/dashboards:/etc/grafana/dashboards:ro',
      ]),
    );
  });

  it('gives Grafana no default password: empty unless set, never required by ${VAR:?}', () => {
    const grafana = services['grafana'];
    expect(grafana?.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBe('${GRAFANA_ADMIN_PASSWORD:-}');
    // `:?` is evaluated for the whole file: it would break `docker compose up` with the profile off.
    expect(JSON.stringify(grafana)).not.toMatch(/\$\{[A-Z_]+:\?/);
  });

  // The entrypoint as compose hands it to the container (`$$` is compose's escape for `$`), with the
  // image's /run.sh replaced by an echo.
  const runEntrypoint = (password: string | undefined) => {
    const [shell, flag, script, ...args] = (services['grafana']?.entrypoint ?? []).map((a) =>
      a.replaceAll('$$', '$'),
    );
    expect([shell, flag]).toEqual(['/bin/sh', '-c']);
    expect(script).toContain('exec /run.sh');
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] };
    if (password !== undefined) env['GF_SECURITY_ADMIN_PASSWORD'] = password;
    return spawnSync(
      '/bin/sh',
      ['-c', (script ?? '').replace('exec /run.sh', 'echo grafana-started'), ...args],
      {
        env,
        encoding: 'utf8',
      },
    );
  };

  it('refuses to start Grafana with one clear line when no admin password is set', () => {
    for (const password of [undefined, '', 'admin']) {
      const run = runEntrypoint(password);
      expect(run.status, `password ${JSON.stringify(password)}`).toBe(1);
      expect(run.stdout).not.toContain('grafana-started');
      expect(run.stderr.trim().split('\n'), 'one line').toHaveLength(1);
      expect(run.stderr).toContain('GRAFANA_ADMIN_PASSWORD');
    }
  });

  it("starts Grafana's own entrypoint when a password is set", () => {
    const run = runEntrypoint('a long secret');
    expect([run.status, run.stdout.trim(), run.stderr]).toEqual([0, 'grafana-started', '']);
  });
});
