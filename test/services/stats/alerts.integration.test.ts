/**
 * Alerts end to end (issue 16, part 3): the real gateway, processor and stats (+ sink) as child processes,
 * and a local webhook receiver that verifies every signature the way the README tells receivers to.
 * Balanced exposures raise nothing; a skewed split (SRM) introduced mid-run raises exactly one alert, whose
 * first delivery the receiver answers 500 and gets again on retry; the split recovering clears it, once.
 * GET /v1/alerts lists it open (also after a restart of stats, which loads it back), then past. Prints the
 * latency from the skewing (and the rebalancing) batch being sent to the webhook receiving the alert. Then a
 * guardrail: errors far more frequent in the treatment of another experiment raise a guardrail alert whose
 * details show the sequential interval above 0.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifySignature } from '../../../services/stats/src/alerts/webhook-signature.ts';
import { postBatch } from '../../e2e/e2e-client.ts';
import { startPipeline, type Pipeline } from '../../helpers/pipeline.ts';

const PROJECT = 'shop';
const EXPERIMENT = 'checkout';
const SECRET_ENV = 'LIFTSTREAM_ALERT_SECRET_SHOP';
const SECRET = randomBytes(24).toString('hex');
/** Balanced first, then 150 more treatment units (100 vs 250: p ≈ 1e-15), then 150 more control units. */
const BALANCED = 100;
const SKEW = 150;
/** The guardrail scenario's experiment. */
const GUARDED = 'search';

interface Delivery {
  receivedAt: number;
  /** What the receiver answered. */
  status: number;
  signatureOk: boolean;
  body: {
    id: string;
    state: string;
    kind: string;
    metric: string | null;
    experiment: string;
    details: unknown;
  };
}

let pipeline: Pipeline;
let receiver: http.Server;
const deliveries: Delivery[] = [];

/** The receiver: checks the signature over the raw body, answers 500 to the very first delivery, then 200. */
async function startReceiver(): Promise<string> {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const check = verifySignature(
        req.headers['liftstream-signature'] as string | undefined,
        raw,
        SECRET,
        Math.floor(Date.now() / 1000),
      );
      const status = !check.ok ? 401 : deliveries.length === 0 ? 500 : 200;
      deliveries.push({
        receivedAt: Date.now(),
        status,
        signatureOk: check.ok,
        body: JSON.parse(raw) as Delivery['body'],
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/liftstream`;
}

const exposures = (prefix: string, n: number, variation: (i: number) => string, experiment = EXPERIMENT) =>
  Array.from({ length: n }, (_, i) => ({
    type: 'exposure',
    user_id: `${prefix}${i}`,
    experiment,
    variation: variation(i),
    timestamp: Date.now() - 60_000,
    message_id: `${prefix}${i}`,
  }));

async function post(batch: unknown[]): Promise<void> {
  const answer = await postBatch(pipeline, PROJECT, batch);
  expect(answer.accepted, 'the gateway accepts every exposure').toBe(batch.length);
}

async function readJson<T>(path: string): Promise<T> {
  const res = await fetch(`${pipeline.statsUrl}${path}`, {
    headers: { authorization: `Bearer ${pipeline.keys[PROJECT]?.read}` },
  });
  expect(res.status, `${path} answers`).toBe(200);
  return (await res.json()) as T;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function storedUnits(experiment = EXPERIMENT): Promise<number> {
  const body = await readJson<{ experiments: { experiment: string; units: number }[] }>('/v1/experiments');
  return body.experiments.find((e) => e.experiment === experiment)?.units ?? 0;
}

/**
 * Lines of the stats process's /metrics (its counters start again at a restart), waited for a moment: the
 * sender counts a delivery once it has read the answer the receiver already logged.
 */
async function expectCounted(lines: string[]): Promise<void> {
  let metrics = '';
  await until(
    'the metrics',
    async () => {
      metrics = await (await fetch(`${pipeline.statsUrl}/metrics`)).text();
      return lines.every((line) => metrics.includes(line)) ? true : undefined;
    },
    5_000,
  ).catch(() => undefined);
  for (const line of lines) expect(metrics, 'Prometheus counts it').toContain(line);
}

/** Distinct (id, state) the receiver accepted, in order. */
const accepted = (experiment = EXPERIMENT) =>
  deliveries
    .filter((d) => d.status === 200 && d.body.experiment === experiment)
    .map((d) => `${d.body.state}:${d.body.id}`);

describe('alerts: an SRM introduced mid-run reaches a webhook once, and clears when the split recovers', () => {
  beforeAll(async () => {
    const url = await startReceiver();
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects: [
        {
          id: PROJECT,
          attribution: 'cumulative',
          expectedSplit: { [EXPERIMENT]: { control: 1, treatment: 1 } },
          alerts: { webhook: { url, secret_env: SECRET_ENV } },
          // A guardrail of `search` only, with a small tuning parameter, so that 100 units per arm can show a
          // breach. So checkout (no guardrail) is evaluated from the units per variation alone, search from the
          // catalogue results: both paths of the evaluator.
          metrics: [{ id: 'errors', type: 'count', event: 'error', direction: 'decrease' }],
          experiments: { [GUARDED]: { guardrails: ['errors'], sequential_tuning_parameter: 200 } },
        },
      ],
      extraEnv: { [SECRET_ENV]: SECRET },
    });
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('raises exactly one signed alert within seconds (on retry after a 500), lists it, and clears it once', async () => {
    await post(exposures('b', 2 * BALANCED, (i) => (i % 2 === 0 ? 'control' : 'treatment')));
    await until('the balanced units stored', async () =>
      (await storedUnits()) === 2 * BALANCED ? true : undefined,
    );
    // Past the one-second evaluation interval: a balanced split raised nothing.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(deliveries, 'no alert for a balanced split').toEqual([]);

    const skewedAt = Date.now();
    await post(exposures('s', SKEW, () => 'treatment'));
    const raised = await until('the raised alert accepted', () =>
      deliveries.find((d) => d.status === 200 && d.body.state === 'raised'),
    );
    const firstAttempt = deliveries[0] as Delivery;
    console.log(
      `[alerts] SRM injected → webhook: first attempt ${firstAttempt.receivedAt - skewedAt} ms (answered 500), ` +
        `accepted on retry ${raised.receivedAt - skewedAt} ms`,
    );
    expect(raised.receivedAt - skewedAt, 'the alert arrives within seconds').toBeLessThan(10_000);
    expect(raised.body).toMatchObject({ experiment: EXPERIMENT, kind: 'srm', metric: null });
    expect(firstAttempt.status, 'the first delivery was refused with a 500').toBe(500);
    expect(firstAttempt.body, 'and retried with the same alert').toEqual(raised.body);
    const details = raised.body.details as { p_value: number; observed: Record<string, number> };
    expect(details.p_value, 'SRM p-value below 0.001').toBeLessThan(0.001);

    const open = await readJson<{ alerts: { id: string; state: string; kind: string }[] }>('/v1/alerts');
    expect(
      open.alerts.map((a) => [a.id, a.state, a.kind]),
      'listed as open',
    ).toEqual([[raised.body.id, 'open', 'srm']]);

    await expectCounted([
      'liftstream_stats_alert_transitions_total{kind="srm",state="raised"} 1',
      'liftstream_stats_alerts_open{kind="srm"} 1',
      'liftstream_stats_alert_deliveries_total{outcome="delivered"} 1',
      'liftstream_stats_alert_delivery_attempts_total{result="retryable_status"} 1',
    ]);

    // The open alert survives a restart: listed again, and the clear below carries its id.
    await pipeline.restart('stats');
    const reopened = await readJson<{ alerts: { id: string }[] }>('/v1/alerts');
    expect(
      reopened.alerts.map((a) => a.id),
      'still open after a restart',
    ).toEqual([raised.body.id]);

    const rebalancedAt = Date.now();
    await post(exposures('r', SKEW, () => 'control'));
    const cleared = await until('the cleared alert accepted', () =>
      deliveries.find((d) => d.status === 200 && d.body.state === 'cleared'),
    );
    console.log(`[alerts] split recovered → webhook: ${cleared.receivedAt - rebalancedAt} ms`);
    expect(cleared.body.id, 'the same alert clears, loaded back after the restart').toBe(raised.body.id);
    await until('every unit stored', async () =>
      (await storedUnits()) === 2 * BALANCED + 2 * SKEW ? true : undefined,
    );
    // Evaluations after the last insert have had their interval: nothing more comes.
    await new Promise((r) => setTimeout(r, 2_500));

    expect(accepted(), 'exactly one raised and one cleared').toEqual([
      `raised:${raised.body.id}`,
      `cleared:${raised.body.id}`,
    ]);
    expect(
      deliveries.every((d) => d.signatureOk),
      'every delivery verifies',
    ).toBe(true);
    const all = await readJson<{ alerts: { id: string; state: string; cleared_at: string | null }[] }>(
      '/v1/alerts?state=all',
    );
    expect(
      all.alerts.map((a) => [a.id, a.state]),
      'listed as past',
    ).toEqual([[raised.body.id, 'cleared']]);
    expect(all.alerts[0]?.cleared_at, 'with the time it cleared').not.toBeNull();
    expect((await readJson<{ alerts: unknown[] }>('/v1/alerts')).alerts, 'nothing open').toEqual([]);

    await expectCounted([
      'liftstream_stats_alert_transitions_total{kind="srm",state="cleared"} 1',
      'liftstream_stats_alert_deliveries_total{outcome="delivered"} 1',
      'liftstream_stats_alerts_open{kind="srm"} 0',
    ]);
  });

  it("raises a guardrail alert when a treatment's sequential interval lies wholly on the bad side", async () => {
    // 100 units per arm; errors (direction decrease): 30 control units with one, every treatment unit with one
    // or two. Lift 4, sequential interval about [1.6, 6.4] with tuning parameter 200: a breach.
    await post([
      ...exposures('gc', BALANCED, () => 'control', GUARDED),
      ...exposures('gt', BALANCED, () => 'treatment', GUARDED),
    ]);
    await until('the guarded units stored', async () =>
      (await storedUnits(GUARDED)) === 2 * BALANCED ? true : undefined,
    );
    const error = (user: string, n: number) => ({
      type: 'track',
      event: 'error',
      user_id: user,
      timestamp: Date.now() - 30_000,
      message_id: `err-${user}-${n}`,
    });
    const erroredAt = Date.now();
    await post([
      ...Array.from({ length: 30 }, (_, i) => error(`gc${i}`, 1)),
      ...Array.from({ length: BALANCED }, (_, i) => error(`gt${i}`, 1)),
      ...Array.from({ length: BALANCED / 2 }, (_, i) => error(`gt${i}`, 2)),
    ]);
    const raised = await until('the guardrail alert', () =>
      deliveries.find((d) => d.status === 200 && d.body.experiment === GUARDED),
    );
    console.log(`[alerts] guardrail breached → webhook: ${raised.receivedAt - erroredAt} ms`);
    expect(raised.body).toMatchObject({ state: 'raised', kind: 'guardrail', metric: 'errors' });
    const details = raised.body.details as {
      direction: string;
      variations: { variation: string; breached: boolean; sequential: { lift_ci: [number, number] } }[];
    };
    expect(details.direction).toBe('decrease');
    const treatment = details.variations.find((v) => v.variation === 'treatment');
    expect(treatment?.breached, 'the treatment breaches').toBe(true);
    expect(treatment?.sequential.lift_ci[0], 'its interval wholly above 0').toBeGreaterThan(0);
    const open = await readJson<{ alerts: { experiment: string; kind: string; metric: string | null }[] }>(
      `/v1/alerts?experiment=${GUARDED}`,
    );
    expect(
      open.alerts.map((a) => [a.kind, a.metric]),
      'listed as open, and no SRM for its balanced split',
    ).toEqual([['guardrail', 'errors']]);
  });
});
