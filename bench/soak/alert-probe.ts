/**
 * Alert latency (issue 16: SRM injected → webhook received, p99 < 5 s at the soak's rate). Every soak
 * project alerts to a webhook receiver in this process (so the alerting evaluates the load's experiments
 * too, as it would in production); every `intervalMs` a probe injects an SRM: one request of 100 new units
 * of a new experiment `alert-probe-<n>` in a project of its own, 20 in control and 80 in treatment (SRM
 * p ≈ 2e-9 against the equal split). Its latency runs from the request being sent to the receiver getting
 * the alert's `raised`. The receiver verifies every signature and answers 200 at once; alerts of the load's
 * own experiments (the scenario's splits may drift) are counted, not measured.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../services/stats/src/alerts/webhook-signature.ts';

export const ALERT_PROBE_PROJECT = 'soak-alerts';
/** The variable the projects file names for the probe's secret (passed to the services in extraEnv). */
export const ALERT_SECRET_ENV = 'LIFTSTREAM_ALERT_SECRET_SOAK';
const UNITS = { control: 20, treatment: 80 };

interface AlertProbeTimes {
  experiment: string;
  sentAt: number;
  ackAt?: number;
  receivedAt?: number;
}

export class AlertProbe {
  readonly secret = randomBytes(24).toString('hex');
  readonly probes: AlertProbeTimes[] = [];
  /** Raised and cleared alerts of the load's experiments; deliveries that did not verify; repeated raises of a probe. */
  readonly others = { raised: 0, cleared: 0 };
  badSignatures = 0;
  duplicates = 0;
  private readonly server: http.Server;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200).end();
        this.received(Buffer.concat(chunks).toString('utf8'), req.headers['liftstream-signature']);
      });
    });
  }

  /** Starts the receiver; the webhook URL for the projects file. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  /** The `alerts` block of every soak project. */
  alertsSetting(url: string): { webhook: { url: string; secret_env: string } } {
    return { webhook: { url, secret_env: ALERT_SECRET_ENV } };
  }

  /** Injects an SRM every `intervalMs` through the gateway. */
  start(gatewayUrl: string, writeKey: string, intervalMs: number): void {
    this.intervalMs = intervalMs;
    const inject = (): void => {
      const n = this.probes.length;
      const experiment = `alert-probe-${n}`;
      const at = Date.now();
      const batch = (['control', 'treatment'] as const).flatMap((variation) =>
        Array.from({ length: UNITS[variation] }, (_, i) => ({
          type: 'exposure',
          user_id: `ap${n}-${variation}-${i}`,
          experiment,
          variation,
          timestamp: at,
          message_id: `ap${n}-${variation}-${i}`,
        })),
      );
      const probe: AlertProbeTimes = { experiment, sentAt: at };
      this.probes.push(probe);
      void fetch(`${gatewayUrl}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batch }),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.ok) probe.ackAt = Date.now();
        })
        .catch(() => undefined);
    };
    inject();
    this.timer = setInterval(inject, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /**
   * One line: the latency of the probes injected in [from, to] (the steady load) and acknowledged by the
   * gateway; one not received by `waitedUntil` counts as missing.
   */
  summary(barMs: number, window: { from: number; to: number; waitedUntil: number }): string {
    const due = this.probes.filter(
      (p) => p.ackAt !== undefined && p.sentAt >= window.from && p.sentAt <= window.to,
    );
    const latencies = due
      .filter((p) => p.receivedAt !== undefined)
      .map((p) => (p.receivedAt as number) - p.sentAt)
      .sort((a, b) => a - b);
    const missing = due.length - latencies.length;
    const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))];
    const p99 = q(0.99);
    return (
      `alert latency, issue 16 (SRM injected → webhook received, ${latencies.length} probes after the warm-up, ` +
      `one every ${this.intervalMs / 1000} s, every soak project alerting): ` +
      (latencies.length === 0
        ? 'no probe received'
        : `p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms`) +
      `; ${missing} not received ${Math.round((window.waitedUntil - window.to) / 1000)} s after the load; ` +
      `${this.duplicates} raised twice; ${this.badSignatures} bad signatures; ` +
      `load experiments: ${this.others.raised} raised, ${this.others.cleared} cleared; ` +
      `bar p99 < ${barMs} ms: ${p99 !== undefined && missing === 0 && p99 < barMs ? 'met' : 'MISSED'}`
    );
  }

  private received(raw: string, header: string | string[] | undefined): void {
    const check = verifySignature(
      typeof header === 'string' ? header : undefined,
      raw,
      this.secret,
      Math.floor(Date.now() / 1000),
    );
    if (!check.ok) {
      this.badSignatures += 1;
      return;
    }
    const body = JSON.parse(raw) as { project: string; experiment: string; state: string };
    if (body.project !== ALERT_PROBE_PROJECT) {
      if (body.state === 'raised') this.others.raised += 1;
      else this.others.cleared += 1;
      return;
    }
    const probe = this.probes.find((p) => p.experiment === body.experiment);
    if (probe === undefined || body.state !== 'raised') return;
    if (probe.receivedAt !== undefined) this.duplicates += 1;
    else probe.receivedAt = Date.now();
  }
}

/** What the alerting did over the run, from the stats process's /metrics: evaluations, their rounds' time, deliveries. */
export function alertEvaluationLine(metrics: ReadonlyMap<string, number>): string {
  const name = 'liftstream_stats_alert_evaluation_duration_seconds';
  const count = metrics.get(`${name}_count`) ?? 0;
  const sum = metrics.get(`${name}_sum`) ?? 0;
  const buckets = [...metrics]
    .map(([series, n]) => ({ le: /_bucket\{le="([^"]+)"\}$/.exec(series)?.[1], n, series }))
    .filter((b) => b.series.startsWith(`${name}_bucket`) && b.le !== undefined && b.le !== '+Inf')
    .map((b) => ({ le: Number(b.le), n: b.n }))
    .sort((a, b) => a.le - b.le);
  const p99 = buckets.find((b) => b.n >= 0.99 * count)?.le;
  const outcomes = ['ok', 'retry', 'error']
    .map((o) => `${metrics.get(`liftstream_stats_alert_evaluations_total{outcome="${o}"}`) ?? 0} ${o}`)
    .join(', ');
  const deliveries = ['delivered', 'failed', 'dropped']
    .map((o) => `${metrics.get(`liftstream_stats_alert_deliveries_total{outcome="${o}"}`) ?? 0} ${o}`)
    .join(', ');
  return (
    `alert evaluations over the run: ${outcomes}, in ${count} rounds (the experiments due together) of mean ` +
    `${count === 0 ? '–' : ((1000 * sum) / count).toFixed(1)} ms, p99 ≤ ${p99 === undefined ? '> 5 s' : `${p99 * 1000} ms`}; ` +
    `deliveries ${deliveries}`
  );
}
