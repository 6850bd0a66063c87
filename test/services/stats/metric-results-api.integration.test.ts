/**
 * The catalogue endpoints over real ClickHouse (embedded chDB, or CLICKHOUSE_URL): a signed changelog with
 * detours and retractions is stored as the sink stores it, and every answer is compared with the batch
 * reference (test/e2e/reference/metric-reference.ts) over the same truth, turned into the events a producer
 * would have sent: counts exactly, statistics to 1e-9 relative. Also the bad-input answers.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetricConfig } from '../../../shared/projects/metric-catalog.ts';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { METRIC_RESULTS_INFERENCE } from '../../../services/stats/src/http/metric-results.ts';
import { computeMetricResults } from '../../../services/stats/src/math/metric-results.ts';
import type { SequentialBlock } from '../../../services/stats/src/math/types.ts';
import { referenceMetricStats, referenceMetricTimeseries } from '../../e2e/reference/metric-reference.ts';
import type { AcceptedEvent } from '../../e2e/reference/semantics-reference.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import { getJson, testStatsApp } from '../../helpers/stats/test-stats-app.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';
import type { TruthUnit } from '../../helpers/stats/signed-rows-scenario.ts';

const START = Date.UTC(2026, 0, 5, 7, 30);
const NOW = new Date(Date.UTC(2026, 0, 9, 15, 45));
const READ = 'shop-read-key';
const ARMS = ['control', 'a', 'b'];
/** checkout's sequential_tuning_parameter: every sequential block must carry it, not the default 5000. */
const TUNING = 2500;

const metrics = [
  { id: 'bought', type: 'conversion', event: 'purchase', window: { delay_hours: 2, hours: 30 } },
  { id: 'revenue', type: 'mean', event: 'purchase' },
  { id: 'revenue_p90', type: 'mean', event: 'purchase', cap: { percentile: 0.9 } },
  { id: 'carts', type: 'count', event: 'add_to_cart', cap: { absolute: 3 }, window: { hours: 48 } },
  { id: 'revenue_per_cart', type: 'ratio', numerator: 'revenue_p90', denominator: 'carts' },
  { id: 'refunds', type: 'count', event: 'refund', guardrail: true, direction: 'decrease' },
];
const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'shop',
      keys: [
        { role: 'read', sha256: sha256Hex(READ) },
        { role: 'write', sha256: sha256Hex('shop-write') },
      ],
      dimensions: ['country'],
      metrics,
      experiments: {
        checkout: {
          metrics: ['bought', 'revenue_per_cart'],
          guardrails: ['refunds'],
          sequential_tuning_parameter: TUNING,
        },
      },
    },
  ],
});
const shop = catalog.project('shop');
const catalogue = (shop?.metrics ?? []) as MetricConfig[];

const units = generateUnits({
  project: 'shop',
  experiment: 'checkout',
  arms: ARMS,
  units: 700,
  events: ['purchase', 'purchase', 'add_to_cart', 'add_to_cart', 'refund'],
  start: START,
  seed: 31,
  conversion: { control: 0.35, a: 0.4, b: 0.45 },
});

/**
 * The truth as the events a producer would have sent (sample = 1/weight); a multiple-exposure unit gets a
 * second exposure to the next arm a minute after its first.
 */
function acceptedEvents(truth: readonly TruthUnit[]): AcceptedEvent[] {
  const events: AcceptedEvent[] = [];
  for (const u of truth) {
    const exposure = {
      project: u.project,
      kind: 'exposure',
      experiment: u.experiment,
      user_id: u.unit,
    } as const;
    events.push({ ...exposure, timestamp: u.firstExposureAt, variation: u.variation });
    if (u.multipleExposure) {
      events.push({
        ...exposure,
        timestamp: u.firstExposureAt + 60_000,
        variation: ARMS[(ARMS.indexOf(u.variation) + 1) % ARMS.length] as string,
      });
    }
    for (const e of u.events) {
      events.push({
        project: u.project,
        kind: 'track',
        user_id: u.unit,
        timestamp: e.timestamp,
        event: e.event,
        value: e.value,
        sample: 1 / e.weight,
        message_id: e.eventId,
      });
    }
  }
  return events;
}

const accepted = acceptedEvents(units);
const settings = { shop: { attribution: 'cumulative' as const } };

let ch: ClickHouseFixture;
let app: FastifyInstance;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'metric_api');
  await ch.store(changelogOf(units, 32, ARMS), { rowsPerInsert: 600 });
  app = await testStatsApp(catalog, ch.client, NOW);
});

afterAll(async () => {
  await app?.close();
  await ch?.close();
});

const get = (url: string) => getJson(app, READ, url);

/** |a − e| ≤ 1e-9 relative (1e-12 absolute near 0); null only for null. */
function expectClose(actual: unknown, expected: number | null, label: string): void {
  if (expected === null) return void expect(actual, label).toBeNull();
  expect(typeof actual, `${label} is a number`).toBe('number');
  const tolerance = Math.max(1e-12, Math.abs(expected) * 1e-9);
  expect(
    Math.abs((actual as number) - expected),
    `${label}: ${String(actual)} vs ${expected}`,
  ).toBeLessThanOrEqual(tolerance);
}

interface Figures {
  variation: string;
  units: number;
  conversions: number;
  estimate: number | null;
  lift: number | null;
  lift_ci: number[] | null;
  p_value: number | null;
  sequential?: SequentialBlock | null;
  [key: string]: unknown;
}

function expectFigures(actual: Figures[], expected: Figures[], label: string): void {
  expect(
    actual.map((v) => v.variation),
    `${label} variations, control first`,
  ).toEqual(expected.map((v) => v.variation));
  expected.forEach((e, i) => {
    const a = actual[i] as Figures;
    const at = `${label}.${e.variation}`;
    expect(a.units, `${at}.units`).toBe(e.units);
    expect(a.conversions, `${at}.conversions`).toBe(e.conversions);
    for (const f of ['sum', 'estimate', 'variance', 'lift', 'p_value', 'adjusted_p_value']) {
      if (f in e) expectClose(a[f], e[f] as number | null, `${at}.${f}`);
    }
    expectClose(a.lift_ci?.[0] ?? null, e.lift_ci?.[0] ?? null, `${at}.lift_ci[0]`);
    expectClose(a.lift_ci?.[1] ?? null, e.lift_ci?.[1] ?? null, `${at}.lift_ci[1]`);
    expect(e.sequential, `${at}: the reference has a sequential figure`).not.toBeUndefined();
    if (e.sequential === null || e.sequential === undefined) {
      expect(a.sequential, `${at}.sequential`).toBeNull();
      return;
    }
    expect(a.sequential?.tuning_parameter, `${at}.sequential.tuning_parameter`).toBe(TUNING);
    expectClose(a.sequential?.p_value, e.sequential.p_value, `${at}.sequential.p_value`);
    expectClose(
      a.sequential?.lift_ci?.[0] ?? null,
      e.sequential.lift_ci?.[0] ?? null,
      `${at}.sequential.lift_ci[0]`,
    );
    expectClose(
      a.sequential?.lift_ci?.[1] ?? null,
      e.sequential.lift_ci?.[1] ?? null,
      `${at}.sequential.lift_ci[1]`,
    );
  });
}

function expectedBlock(metric: MetricConfig, asOf?: number) {
  const stats = referenceMetricStats(
    accepted,
    settings,
    'shop',
    'checkout',
    metric,
    catalogue,
    asOf === undefined ? {} : { asOf },
  );
  return {
    stats,
    results: computeMetricResults({
      type: metric.type,
      stats,
      control: 'control',
      confidence: 0.95,
      sequentialTuningParameter: TUNING,
    }),
  };
}

describe('catalogue metrics: results, metric sets, time series', () => {
  it('answers every catalogue metric at once equal to the reference (windows, caps, ratio)', async () => {
    const { status, body } = await get(
      `/v1/experiments/checkout/results?metrics=${catalogue.map((m) => m.id).join(',')}`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['control']).toBe('control');
    expect(body['inference'], 'inference note').toBe(METRIC_RESULTS_INFERENCE);
    const blocks = body['metrics'] as {
      metric: string;
      cap_value: number | null;
      test: string;
      variations: Figures[];
    }[];
    expect(blocks.map((b) => b.metric)).toEqual(catalogue.map((m) => m.id));
    for (const metric of catalogue) {
      const block = blocks.find((b) => b.metric === metric.id);
      const expected = expectedBlock(metric);
      expectClose(block?.cap_value, expected.stats.capValue, `${metric.id}.cap_value`);
      expect(block?.test).toBe(expected.results.test);
      expectFigures(block?.variations ?? [], expected.results.variations as unknown as Figures[], metric.id);
    }
    // The percentile cap really caps something here, and the window really drops events.
    const defined = catalogue.flatMap((m) =>
      expectedBlock(m).results.variations.filter((v) => (v.sequential?.p_value ?? null) !== null),
    );
    expect(defined.length, 'sequential tests defined for most treatments').toBeGreaterThanOrEqual(8);
    const p90 = expectedBlock(catalogue.find((m) => m.id === 'revenue_p90') as MetricConfig);
    const plain = expectedBlock(catalogue.find((m) => m.id === 'revenue') as MetricConfig);
    expect(p90.stats.variations[0]?.sum).toBeLessThan(plain.stats.variations[0]?.sum as number);
    expect(body['multiple_exposure_units']).toBe(units.filter((u) => u.multipleExposure).length);
  });

  it('answers the experiment metric set by default, guardrails marked, and lists the catalogue', async () => {
    const { status, body } = await get('/v1/experiments/checkout/results');
    expect(status).toBe(200);
    const blocks = body['metrics'] as { metric: string; guardrail: boolean; direction: string }[];
    expect(blocks.map((b) => [b.metric, b.guardrail, b.direction])).toEqual([
      ['bought', false, 'increase'],
      ['revenue_per_cart', false, 'increase'],
      ['refunds', true, 'decrease'],
    ]);
    const listing = await get('/v1/metrics');
    expect(listing.status).toBe(200);
    expect((listing.body['metrics'] as { id: string }[]).map((m) => m.id)).toEqual(
      catalogue.map((m) => m.id),
    );
    expect(listing.body['dimensions']).toEqual(['country']);
  });

  it('answers a daily and an hourly time series whose every point equals the reference as_of it', async () => {
    for (const [id, interval] of [
      ['bought', 'day'],
      ['revenue_per_cart', 'day'],
      ['revenue_p90', 'hour'],
    ] as const) {
      const metric = catalogue.find((m) => m.id === id) as MetricConfig;
      const { status, body } = await get(
        `/v1/experiments/checkout/results/timeseries?metric=${id}&interval=${interval}`,
      );
      expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
      const points = body['points'] as { as_of: string; variations: Figures[] }[];
      const expected = referenceMetricTimeseries(
        accepted,
        settings,
        'shop',
        'checkout',
        metric,
        catalogue,
        NOW.getTime(),
        interval,
      );
      expect(points.map((p) => p.as_of)).toEqual(expected.map((p) => new Date(p.asOf).toISOString()));
      expect(points.length, `${id} points`).toBeGreaterThan(interval === 'day' ? 4 : 90);
      expected.forEach((point, i) => {
        const results = computeMetricResults({
          type: metric.type,
          stats: point.stats,
          control: 'control',
          confidence: 0.95,
          sequentialTuningParameter: TUNING,
        });
        const trimmed = results.variations.map(
          ({ variation, units: n, conversions, estimate, lift, lift_ci, p_value, sequential }) => ({
            variation,
            units: n,
            conversions,
            estimate,
            lift,
            lift_ci,
            p_value,
            sequential,
          }),
        );
        expectFigures(
          (points[i] as { variations: Figures[] }).variations,
          trimmed as Figures[],
          `${id}@${point.asOf}`,
        );
      });
    }
  });

  it("answers an event name's series with its conversion rate and value per unit", async () => {
    const { status, body } = await get('/v1/experiments/checkout/results/timeseries?metric=purchase');
    expect(status).toBe(200);
    const last = (
      body['points'] as {
        variations: { variation: string; conversion_rate: number; value_per_unit: number }[];
      }[]
    ).at(-1);
    const revenue = expectedBlock(catalogue.find((m) => m.id === 'revenue') as MetricConfig);
    for (const v of revenue.stats.variations) {
      const got = last?.variations.find((x) => x.variation === v.variation);
      expectClose(got?.value_per_unit, v.sum / v.units, `${v.variation}.value_per_unit`);
      expectClose(got?.conversion_rate, v.conversions / v.units, `${v.variation}.conversion_rate`);
    }
  });

  it('refuses unknown metrics, dimensions and conflicting parameters with a 400 naming them', async () => {
    const cases: [string, RegExp][] = [
      [
        '/v1/experiments/checkout/results?metrics=bought,nope',
        /parameter "metrics": project "shop" has no metric "nope"/,
      ],
      [
        '/v1/experiments/checkout/results?metrics=bought&dimension=browser',
        /parameter "dimension": .*no dimension "browser".*declares country/,
      ],
      [
        '/v1/experiments/checkout/results?metric=purchase&metrics=bought',
        /"metrics" cannot be combined with "metric"/,
      ],
      [
        '/v1/experiments/checkout/results?metrics=bought&from=2026-01-05',
        /parameter "from" applies to one event/,
      ],
      ['/v1/experiments/checkout/results?metrics=bought,bought', /names "bought" twice/],
      [
        `/v1/experiments/checkout/results?metrics=${Array.from({ length: 21 }, (_, i) => `m${i}`).join(',')}`,
        /at most 20 per request/,
      ],
      ['/v1/experiments/checkout/results/timeseries?metric=bought&interval=week', /interval/],
    ];
    for (const [url, message] of cases) {
      const { status, body } = await get(url);
      expect(status, url).toBe(400);
      expect((body['error'] as { message: string }).message, url).toMatch(message);
    }
    const unknown = await get('/v1/experiments/checkout/results/timeseries?metric=nothing_here');
    expect(unknown.status).toBe(404);
    expect((unknown.body['error'] as { code: string }).code).toBe('unknown_metric');
    const noExperiment = await get('/v1/experiments/nowhere/results?metrics=bought');
    expect(noExperiment.status).toBe(404);
  });

  it('documents the new endpoints in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/metrics', '/v1/experiments/{experiment}/results/timeseries']),
    );
  });
});
