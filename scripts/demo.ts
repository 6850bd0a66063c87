/**
 * `npm run start:local -- --demo`: sends a simulated experiment through the running local system and
 * prints its results once they have converged, next to what an independent computation of the semantics
 * (test/e2e/reference) says they must be. The traffic comes from the same seeded scenario generator the
 * end-to-end tests use: three arms with a real effect in one, anonymous users who log in later (some after
 * converting), two-device users, late and out-of-order events, retries, sampled events, bots, e-mail
 * addresses and invalid fields the gateway must refuse.
 */
import { referenceResults } from '../test/e2e/reference/semantics-reference.ts';
import {
  expectedAccepted,
  generateScenario,
  type Scenario,
} from '../test/e2e/scenario/scenario-generator.ts';

export interface DemoTarget {
  gatewayUrl: string;
  statsUrl: string;
  writeKey: string;
  readKey: string;
}

const DEMO_SEED = 20261122;

/** The demo's traffic; `now` anchors every timestamp inside the gateway's accepted window. */
export function demoScenario(now = Date.now()): Scenario {
  return generateScenario({
    seed: DEMO_SEED,
    now,
    users: 3_000,
    projects: 1,
    experimentsPerProject: 2,
    projectIds: ['demo'],
  });
}

interface ResultsBody {
  variations?: Array<Record<string, unknown>>;
  srm?: { p_value: number | null };
  multiple_exposure_units?: number;
  error?: { message: string };
}

export async function runDemo(target: DemoTarget, scenario = demoScenario()): Promise<void> {
  const experiments = scenario.projects[0]?.experiments ?? [];
  const existing = await fetch(`${target.statsUrl}/v1/experiments`, {
    headers: { authorization: `Bearer ${target.readKey}` },
  });
  const listed = existing.ok
    ? ((await existing.json()) as { experiments?: Array<{ experiment?: string }> })
    : {};
  if ((listed.experiments ?? []).some((e) => experiments.some((x) => x.name === e.experiment))) {
    // Sending the same seeded traffic again would mix two runs in one experiment; show what is there.
    console.log(
      '[demo] the demo experiments already hold data (an earlier --demo run); showing their results:',
    );
    for (const experiment of experiments) await showCurrent(target, experiment.name, experiment.control);
    return;
  }
  console.log(
    `[demo] sending ${scenario.requests.length} batches (experiments ${experiments.map((e) => e.name).join(', ')}) ...`,
  );
  let accepted = 0;
  let rejected = 0;
  let dropped = 0;
  for (const request of scenario.requests) {
    const res = await fetch(`${target.gatewayUrl}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.writeKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: request.batch }),
    });
    if (!res.ok) throw new Error(`[demo] gateway answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { accepted: number; rejected: unknown[]; dropped?: number };
    accepted += body.accepted;
    rejected += body.rejected.length;
    dropped += body.dropped ?? 0;
  }
  console.log(
    `[demo] gateway: ${accepted} accepted, ${rejected} rejected (named per event), ${dropped} bots dropped`,
  );
  for (const experiment of experiments)
    await showWhenConverged(target, scenario, experiment.name, experiment.control);
}

/** Polls the stats API until it agrees with the reference (units and conversions), then prints the table. */
async function showWhenConverged(
  target: DemoTarget,
  scenario: Scenario,
  experiment: string,
  control: string,
): Promise<void> {
  const metric = 'purchase';
  const expected = referenceResults(
    expectedAccepted(scenario),
    scenario.settings,
    'demo',
    experiment,
    metric,
    { control },
  );
  if (!expected.ok) throw new Error(`[demo] reference failed: ${expected.error.message}`);
  const expectedUnits = expected.value.variations
    .map((v) => `${v.variation}:${v.units}:${v.conversions}`)
    .join(',');

  const url = `${target.statsUrl}/v1/experiments/${encodeURIComponent(experiment)}/results?metric=${metric}&control=${control}`;
  const started = Date.now();
  let last: ResultsBody | undefined;
  while (Date.now() - started < 120_000) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${target.readKey}` } });
    last = (await res.json()) as ResultsBody;
    const got = (last.variations ?? [])
      .map((v) => `${String(v['variation'])}:${String(v['units'])}:${String(v['conversions'])}`)
      .join(',');
    if (res.ok && got === expectedUnits) {
      console.log(
        `\n[demo] ${experiment} / ${metric}: converged to the reference in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      printTable(last);
      return;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  console.log(`[demo] ${experiment}: results did not reach the reference within 120 s; last answer:`);
  console.log(JSON.stringify(last, null, 2));
  console.log(`[demo] expected units:conversions per variation: ${expectedUnits}`);
}

async function showCurrent(target: DemoTarget, experiment: string, control: string): Promise<void> {
  const url = `${target.statsUrl}/v1/experiments/${encodeURIComponent(experiment)}/results?metric=purchase&control=${control}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${target.readKey}` } });
  const body = (await res.json()) as ResultsBody;
  console.log(`\n[demo] ${experiment} / purchase:`);
  if (res.ok) printTable(body);
  else console.log(`  ${res.status}: ${body.error?.message ?? 'no results'}`);
}

function printTable(body: ResultsBody): void {
  const fmt = (v: unknown, digits = 4): string =>
    v === null || v === undefined ? '—' : typeof v === 'number' ? v.toFixed(digits) : String(v);
  const fmtP = (v: unknown): string => (typeof v === 'number' && v < 1e-4 ? v.toExponential(2) : fmt(v));
  const rows = (body.variations ?? []).map((v) => ({
    variation: String(v['variation']),
    units: fmt(v['units'], 0),
    conversions: fmt(v['conversions'], 0),
    rate: fmt(v['conversion_rate']),
    lift: fmt(v['lift']),
    'lift 95% CI': Array.isArray(v['lift_ci']) ? `[${fmt(v['lift_ci'][0])}, ${fmt(v['lift_ci'][1])}]` : '—',
    'p (z)': fmtP(v['p_value']),
    'p (Holm)': fmtP(v['adjusted_p_value']),
    'value/unit': fmt(v['value_per_unit'], 2),
    'p (Welch)': fmtP(v['value_p_value']),
  }));
  console.table(rows);
  console.log(
    `multiple-exposure units (excluded): ${body.multiple_exposure_units ?? '—'}; SRM p-value: ${fmtP(body.srm?.p_value)}`,
  );
}
