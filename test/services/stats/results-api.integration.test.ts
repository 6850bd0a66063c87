/**
 * The stats API over real ClickHouse (embedded chDB, or CLICKHOUSE_URL): signed changelogs with detours
 * and retractions are stored as the sink stores them, and every answer is compared with an independent
 * computation of semantics.md over the scenario's truth (per-unit c/k/x, then computeResults).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseProjectCatalog, sha256Hex } from '../../../shared/projects/project-catalog.ts';
import { computeResults } from '../../../services/stats/src/math/experiment-results.ts';
import type { ExperimentResults } from '../../../services/stats/src/math/types.ts';
import { RESULTS_INFERENCE } from '../../../services/stats/src/http/results-response.ts';
import type { ResultsBody } from '../../../services/stats/src/http/results-response.ts';
import { openClickHouse } from '../../helpers/stats/clickhouse-fixture.ts';
import { testStatsApp } from '../../helpers/stats/test-stats-app.ts';
import type { ClickHouseFixture } from '../../helpers/stats/clickhouse-fixture.ts';
import { changelogOf, expectedStats, generateUnits } from '../../helpers/stats/signed-rows-scenario.ts';
import type { TruthUnit } from '../../helpers/stats/signed-rows-scenario.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5);
const NOW = new Date(Date.UTC(2026, 1, 1, 12));
const KEYS = { shopRead: 'shop-read-key', shopWrite: 'shop-write-key', otherRead: 'other-read-key' };
const CHECKOUT_TUNING = 1200;

const catalog = parseProjectCatalog({
  projects: [
    {
      id: 'shop',
      keys: [
        { role: 'read', sha256: sha256Hex(KEYS.shopRead) },
        { role: 'write', sha256: sha256Hex(KEYS.shopWrite) },
      ],
      expectedSplit: { checkout: { control: 2, a: 1, b: 1 } },
      eventDefinitions: { events: { refund: { valueType: 'currency' } } },
      // The sequential blocks of checkout use its own tuning parameter; the other experiments 5000.
      experiments: { checkout: { sequential_tuning_parameter: CHECKOUT_TUNING } },
    },
    { id: 'other', keys: [{ role: 'read', sha256: sha256Hex(KEYS.otherRead) }] },
  ],
});

// shop/checkout: 3 arms, unequal split configured; shop/onboarding: 4 arms, no "control";
// shop/pricing: 2 arms where one never converts; other/checkout: same experiment name, other project.
const shopCheckout = generateUnits({
  project: 'shop',
  experiment: 'checkout',
  arms: ['control', 'control', 'a', 'b'],
  units: 900,
  events: ['purchase', 'purchase', 'add_to_cart'],
  start: START,
  seed: 11,
  conversion: { control: 0.3, a: 0.35, b: 0.45 },
});
const shopOnboarding = generateUnits({
  project: 'shop',
  experiment: 'onboarding',
  arms: ['v1', 'v2', 'v3', 'v4'],
  units: 400,
  events: ['signup'],
  start: START,
  seed: 12,
});
const shopPricing = generateUnits({
  project: 'shop',
  experiment: 'pricing',
  arms: ['control', 'cheap'],
  units: 120,
  events: ['purchase'],
  start: START,
  seed: 13,
  conversion: { control: 0, cheap: 0.5 },
  multipleShare: 0,
});
const otherCheckout = generateUnits({
  project: 'other',
  experiment: 'checkout',
  arms: ['control', 'treatment'],
  units: 150,
  events: ['purchase'],
  start: START,
  seed: 14,
});

let ch: ClickHouseFixture;
let app: FastifyInstance;

beforeAll(async () => {
  ch = await openClickHouse(inject('clickhouseUrl'), 'stats_api');
  let offset = 0;
  for (const [units, seed, arms] of [
    [shopCheckout, 21, ['control', 'a', 'b']],
    [shopOnboarding, 22, ['v1', 'v2', 'v3', 'v4']],
    [shopPricing, 23, ['control', 'cheap']],
    [otherCheckout, 24, ['control', 'treatment']],
  ] as const) {
    const changelog = changelogOf(units, seed, arms);
    await ch.store(changelog, { rowsPerInsert: 700, firstOffset: offset });
    offset += changelog.exposures.length + changelog.attributed.length;
  }
  app = await testStatsApp(catalog, ch.client, NOW);
});

afterAll(async () => {
  await app?.close();
  await ch?.close();
});

async function get(url: string, key?: string) {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });
  return {
    status: response.statusCode,
    body: response.json() as Record<string, unknown>,
    headers: response.headers,
  };
}

function expectedResults(
  units: readonly TruthUnit[],
  metric: string,
  control: string,
  opts: {
    confidence?: number;
    weights?: Record<string, number>;
    from?: number;
    to?: number;
    tuning?: number;
  } = {},
): { results: ExperimentResults; multipleExposureUnits: number } {
  const window = {
    ...(opts.from === undefined ? {} : { from: opts.from }),
    ...(opts.to === undefined ? {} : { to: opts.to }),
  };
  const truth = expectedStats(units, metric, window);
  const outcome = computeResults({
    variations: truth.variations,
    control,
    ...(opts.confidence === undefined ? {} : { confidence: opts.confidence }),
    ...(opts.weights === undefined ? {} : { expectedWeights: opts.weights }),
    ...(opts.tuning === undefined ? {} : { sequentialTuningParameter: opts.tuning }),
  });
  if (!outcome.ok) throw new Error(`reference refused: ${outcome.error.message}`);
  return { results: outcome.value, multipleExposureUnits: truth.multipleExposureUnits };
}

/** Equal to 1e-9 relative (1e-12 absolute near 0): ClickHouse sums in another order than the reference. */
function expectClose(actual: unknown, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual, label).toBeNull();
    return;
  }
  expect(typeof actual, `${label} is a number`).toBe('number');
  const tolerance = Math.max(1e-12, Math.abs(expected) * 1e-9);
  expect(
    Math.abs((actual as number) - expected),
    `${label}: ${String(actual)} vs ${expected}`,
  ).toBeLessThanOrEqual(tolerance);
}

function expectBodyMatches(
  body: ResultsBody,
  expected: { results: ExperimentResults; multipleExposureUnits: number },
): void {
  const { results } = expected;
  expect(body.control, 'control').toBe(results.control);
  expect(body.computed_at, 'computed_at from the injected clock').toBe(NOW.toISOString());
  expect(body.multiple_exposure_units, 'multiple-exposure units').toBe(expected.multipleExposureUnits);
  expect(body.variations.map((v) => v.variation).sort(), 'variations').toEqual(
    results.variations.map((v) => v.variation).sort(),
  );
  expect(body.variations[0]?.variation, 'control first').toBe(results.control);
  for (const want of results.variations) {
    const got = body.variations.find((v) => v.variation === want.variation);
    const label = (field: string) => `${want.variation}.${field}`;
    expect(got?.units, label('units')).toBe(want.units);
    expect(got?.conversions, label('conversions')).toBe(want.conversions);
    for (const field of [
      'conversion_rate',
      'value_per_unit',
      'value_variance',
      'count_per_unit',
      'count_variance',
      'mean_value',
      'lift',
      'p_value',
      'adjusted_p_value',
      'value_lift',
      'value_p_value',
      'count_p_value',
    ] as const) {
      expectClose(got?.[field], want[field], label(field));
    }
    if (want.lift_ci === null) expect(got?.lift_ci, label('lift_ci')).toBeNull();
    else {
      expectClose(got?.lift_ci?.[0], want.lift_ci[0], label('lift_ci[0]'));
      expectClose(got?.lift_ci?.[1], want.lift_ci[1], label('lift_ci[1]'));
    }
    if (want.sequential === null) expect(got?.sequential, label('sequential')).toBeNull();
    else {
      const seq = got?.sequential;
      expect(seq?.tuning_parameter, label('sequential.tuning_parameter')).toBe(
        want.sequential.tuning_parameter,
      );
      expectClose(seq?.p_value, want.sequential.p_value, label('sequential.p_value'));
      if (want.sequential.lift_ci === null) expect(seq?.lift_ci, label('sequential.lift_ci')).toBeNull();
      else {
        expectClose(seq?.lift_ci?.[0], want.sequential.lift_ci[0], label('sequential.lift_ci[0]'));
        expectClose(seq?.lift_ci?.[1], want.sequential.lift_ci[1], label('sequential.lift_ci[1]'));
      }
    }
  }
  expect(body.inference, 'inference note').toBe(RESULTS_INFERENCE);
  expectClose(body.srm.p_value, results.srm.p_value, 'srm.p_value');
  expect(body.srm.observed, 'srm.observed').toEqual(results.srm.observed);
  for (const [name, value] of Object.entries(results.srm.expected)) {
    expectClose(body.srm.expected[name], value, `srm.expected.${name}`);
  }
}

describe('GET /v1/experiments/:experiment/results', () => {
  it('equals the independent computation for 3 arms with an unequal SRM split, retractions and multiple exposures', async () => {
    const { status, body } = await get('/v1/experiments/checkout/results?metric=purchase', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    const expected = expectedResults(shopCheckout, 'purchase', 'control', {
      weights: { control: 2, a: 1, b: 1 },
      tuning: CHECKOUT_TUNING,
    });
    expect(expected.multipleExposureUnits, 'the scenario has multiple-exposure units').toBeGreaterThan(0);
    expect(
      expected.results.variations.filter((v) => (v.sequential?.p_value ?? null) !== null).length,
      'both treatments have a defined sequential test',
    ).toBe(2);
    expectBodyMatches(body as unknown as ResultsBody, expected);
    const { srm } = body as unknown as ResultsBody;
    const total = Object.values(srm.observed).reduce((a, b) => a + b, 0);
    expect(srm.expected['control'], 'weights 2:1:1 expect half the units in control').toBeCloseTo(
      total / 2,
      9,
    );
  });

  it('equals the independent computation for another metric, a requested control and confidence', async () => {
    const { status, body } = await get(
      '/v1/experiments/checkout/results?metric=add_to_cart&control=a&confidence=0.9',
      KEYS.shopRead,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expectBodyMatches(
      body as unknown as ResultsBody,
      expectedResults(shopCheckout, 'add_to_cart', 'a', {
        confidence: 0.9,
        weights: { control: 2, a: 1, b: 1 },
        tuning: CHECKOUT_TUNING,
      }),
    );
  });

  it('equals the independent computation for 4 arms with an explicit control', async () => {
    const { status, body } = await get(
      '/v1/experiments/onboarding/results?metric=signup&control=v2',
      KEYS.shopRead,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expectBodyMatches(body as unknown as ResultsBody, expectedResults(shopOnboarding, 'signup', 'v2'));
  });

  it('gives nulls, not NaN, when the control never converts (2 arms)', async () => {
    const { status, body } = await get('/v1/experiments/pricing/results?metric=purchase', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    const results = body as unknown as ResultsBody;
    expectBodyMatches(results, expectedResults(shopPricing, 'purchase', 'control'));
    const cheap = results.variations.find((v) => v.variation === 'cheap');
    expect(results.variations[0]?.conversions, 'control has no conversion').toBe(0);
    expect(cheap?.lift, 'lift against a zero rate is undefined').toBeNull();
    expect(cheap?.p_value, 'the z-test is still defined').not.toBeNull();
  });

  it('gives zeros for a metric of the project with no event in this experiment', async () => {
    const { status, body } = await get('/v1/experiments/pricing/results?metric=add_to_cart', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    const results = body as unknown as ResultsBody;
    expectBodyMatches(results, expectedResults(shopPricing, 'add_to_cart', 'control'));
    expect(
      results.variations.every((v) => v.conversions === 0 && v.value_per_unit === 0),
      'all zeros',
    ).toBe(true);
  });

  it('gives zeros for a metric the project defines but nobody sent yet', async () => {
    const { status, body } = await get('/v1/experiments/pricing/results?metric=refund', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    expect((body as unknown as ResultsBody).variations.map((v) => v.conversions)).toEqual([0, 0]);
  });

  it('restricts to an event-time window: events in [from, to), units exposed before to', async () => {
    const from = START + DAY / 2;
    const to = START + 2 * DAY;
    const { status, body } = await get(
      `/v1/experiments/checkout/results?metric=purchase&from=${from}&to=${new Date(to).toISOString()}`,
      KEYS.shopRead,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    const expected = expectedResults(shopCheckout, 'purchase', 'control', {
      from,
      to,
      weights: { control: 2, a: 1, b: 1 },
      tuning: CHECKOUT_TUNING,
    });
    expectBodyMatches(body as unknown as ResultsBody, expected);
    const all = expectedResults(shopCheckout, 'purchase', 'control').results;
    expect(
      expected.results.variations.reduce((n, v) => n + v.conversions, 0),
      'the window really removed conversions',
    ).toBeLessThan(all.variations.reduce((n, v) => n + v.conversions, 0));
  });

  it('shows each project only its own data, even for an experiment of the same name', async () => {
    const { status, body } = await get('/v1/experiments/checkout/results?metric=purchase', KEYS.otherRead);
    expect(status, JSON.stringify(body)).toBe(200);
    expectBodyMatches(body as unknown as ResultsBody, expectedResults(otherCheckout, 'purchase', 'control'));
    const missing = await get('/v1/experiments/onboarding/results?metric=signup&control=v1', KEYS.otherRead);
    expect(missing.status, "shop's experiment is unknown to other").toBe(404);
    const metric = await get('/v1/experiments/checkout/results?metric=add_to_cart', KEYS.otherRead);
    expect(metric.status, "shop's metric is unknown to other").toBe(404);
  });

  it('answers 404 naming an unknown experiment and an unknown metric', async () => {
    const experiment = await get('/v1/experiments/nope/results?metric=purchase', KEYS.shopRead);
    expect(experiment.status).toBe(404);
    expect(experiment.body).toEqual({
      error: {
        code: 'unknown_experiment',
        message: 'project "shop" has no exposure to an experiment named "nope"',
      },
    });
    const metric = await get('/v1/experiments/checkout/results?metric=teleport', KEYS.shopRead);
    expect(metric.status).toBe(404);
    expect((metric.body['error'] as { code: string; message: string }).code).toBe('unknown_metric');
    expect((metric.body['error'] as { message: string }).message).toContain('"teleport"');
  });

  it.each([
    ['a missing metric', '/v1/experiments/checkout/results', 'metric'],
    ['a malformed metric', '/v1/experiments/checkout/results?metric=Bad-Name', 'metric'],
    [
      'confidence out of (0, 1)',
      '/v1/experiments/checkout/results?metric=purchase&confidence=1.5',
      'confidence',
    ],
    ['a malformed from', '/v1/experiments/checkout/results?metric=purchase&from=soon', 'from'],
    [
      'to before from',
      '/v1/experiments/checkout/results?metric=purchase&from=2026-01-03&to=2026-01-02',
      'to',
    ],
    ['an unknown control', '/v1/experiments/checkout/results?metric=purchase&control=zzz', 'control'],
    [
      'no control when no variation is named control',
      '/v1/experiments/onboarding/results?metric=signup',
      'control',
    ],
  ])('answers 400 naming the parameter for %s', async (_name, url, param) => {
    const { status, body } = await get(url, KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(400);
    const error = body['error'] as { code: string; message: string };
    expect(error.code).toBe('invalid_parameter');
    expect(error.message, 'names the parameter').toContain(`"${param}"`);
  });

  it('refuses a missing or unknown key with 401 and a write key with 403', async () => {
    const url = '/v1/experiments/checkout/results?metric=purchase';
    expect((await get(url)).status, 'no key').toBe(401);
    expect((await get(url, 'not-a-key')).status, 'unknown key').toBe(401);
    const write = await get(url, KEYS.shopWrite);
    expect(write.status, 'write key').toBe(403);
    expect((write.body['error'] as { code: string }).code).toBe('forbidden');
  });
});

describe('GET /v1/experiments', () => {
  it("lists the key's project's experiments with units, multiple exposures and first/last exposure", async () => {
    const { status, body } = await get('/v1/experiments', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body['project']).toBe('shop');
    const experiments = body['experiments'] as {
      experiment: string;
      variations: { variation: string; units: number }[];
      units: number;
      multiple_exposure_units: number;
      first_exposure_at: string | null;
      last_exposure_at: string | null;
    }[];
    expect(experiments.map((e) => e.experiment)).toEqual(['checkout', 'onboarding', 'pricing']);
    for (const [name, units] of [
      ['checkout', shopCheckout],
      ['onboarding', shopOnboarding],
      ['pricing', shopPricing],
    ] as const) {
      const listed = experiments.find((e) => e.experiment === name);
      const truth = expectedStats(units, 'none');
      expect(listed?.variations, `${name} variations`).toEqual(
        truth.variations.map((v) => ({ variation: v.variation, units: v.units })),
      );
      expect(listed?.units, `${name} units`).toBe(truth.variations.reduce((n, v) => n + v.units, 0));
      expect(listed?.multiple_exposure_units, `${name} multiple`).toBe(truth.multipleExposureUnits);
      const times = units.map((u) => u.firstExposureAt);
      expect(listed?.first_exposure_at, `${name} first`).toBe(new Date(Math.min(...times)).toISOString());
      expect(listed?.last_exposure_at, `${name} last (retracted later exposures do not count)`).toBe(
        new Date(Math.max(...times)).toISOString(),
      );
    }
  });

  it('dates the newest counted event as the truth has it (retracted detours never count), listing and results', async () => {
    const newest = (units: readonly TruthUnit[]) =>
      new Date(
        Math.max(
          ...units
            .filter((u) => !u.multipleExposure)
            .flatMap((u) => [u.firstExposureAt, ...u.events.map((e) => e.timestamp)]),
        ),
      ).toISOString();
    const { body } = await get('/v1/experiments', KEYS.shopRead);
    const listed = body['experiments'] as {
      experiment: string;
      last_event_at: string | null;
      open_alerts: number;
    }[];
    expect(Object.fromEntries(listed.map((e) => [e.experiment, e.last_event_at]))).toEqual({
      checkout: newest(shopCheckout),
      onboarding: newest(shopOnboarding),
      pricing: newest(shopPricing),
    });
    expect(
      listed.map((e) => e.open_alerts),
      'no alert was raised',
    ).toEqual([0, 0, 0]);
    const results = await get('/v1/experiments/checkout/results?metric=purchase', KEYS.shopRead);
    expect(results.body['last_event_at'], 'the results answer').toBe(newest(shopCheckout));
    const other = await get('/v1/experiments/checkout/results?metric=purchase', KEYS.otherRead);
    expect(other.body['last_event_at'], "the other project's checkout").toBe(newest(otherCheckout));
  });

  it('lists only the other project for its key', async () => {
    const { body } = await get('/v1/experiments', KEYS.otherRead);
    expect(body['project']).toBe('other');
    expect((body['experiments'] as { experiment: string; units: number }[]).map((e) => e.experiment)).toEqual(
      ['checkout'],
    );
  });
});

describe('when the tables disagree', () => {
  it('recomputes with a join on live assignments instead of counting events of unexposed units', async () => {
    // A unit with an attributed event but no exposure row yet (its exposure is still in flight).
    await ch.store(
      {
        exposures: [
          {
            project: 'shop',
            experiment: 'tiny',
            unit: 't1',
            variation: 'control',
            first_exposure_at: START,
            multiple_exposure: false,
            sign: 1,
          },
          {
            project: 'shop',
            experiment: 'tiny',
            unit: 't2',
            variation: 'b',
            first_exposure_at: START,
            multiple_exposure: false,
            sign: 1,
          },
        ],
        attributed: [
          {
            project: 'shop',
            experiment: 'tiny',
            unit: 't1',
            variation: 'control',
            event_id: 'x1',
            event: 'purchase',
            timestamp: START + 1,
            weight: 1,
            value: 3,
            sign: 1,
          },
          {
            project: 'shop',
            experiment: 'tiny',
            unit: 't3',
            variation: 'control',
            event_id: 'x2',
            event: 'purchase',
            timestamp: START + 1,
            weight: 1,
            value: 4,
            sign: 1,
          },
        ],
      },
      { firstOffset: 1_000_000 },
    );
    const { status, body } = await get('/v1/experiments/tiny/results?metric=purchase', KEYS.shopRead);
    expect(status, JSON.stringify(body)).toBe(200);
    const control = (body as unknown as ResultsBody).variations[0];
    expect(control?.units, 'one exposed unit').toBe(1);
    expect(control?.conversions, "t3's event is not counted").toBe(1);
    expect(control?.value_per_unit, "only t1's value").toBe(3);
  });
});

describe('operations', () => {
  it('healthz answers, readyz checks ClickHouse and reports the sink disabled', async () => {
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { clickhouse: { status: 'up' }, sink: { status: 'disabled' } },
    });
  });

  it('serves Prometheus metrics with the request counters', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('liftstream_stats_http_requests_total');
    expect(response.body).toContain('liftstream_stats_results_query_duration_seconds');
  });

  it('serves an OpenAPI document describing both data routes and the bearer scheme', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(Object.keys(body['paths'] as object)).toEqual(
      expect.arrayContaining(['/v1/experiments', '/v1/experiments/{experiment}/results']),
    );
    expect(JSON.stringify(body['components'])).toContain('bearer');
  });
});
