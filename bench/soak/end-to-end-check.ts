/**
 * The soak's exact end-to-end check: for every experiment of the traffic, the stats service's analysed
 * units and converted units (purchase) per variation and its multiple-exposure units must equal the
 * reference's sums over the chunks sent (scenario-traffic.ts); and the probe experiment must hold one
 * unit and one conversion per probe the gateway accepted.
 */
import { PROBE_EXPERIMENT, probeCounts } from './freshness-probe.ts';
import { TRUTH_METRIC, type Truth } from './scenario-traffic.ts';

interface ResultsBody {
  multiple_exposure_units: number;
  variations: { variation: string; units: number; conversions: number }[];
}

/** One experiment's differences; a non-OK answer is one difference naming it. */
async function experimentDifferences(
  statsUrl: string,
  readKey: string,
  key: string,
  expected: Truth[string],
): Promise<string[]> {
  const experiment = key.slice(key.indexOf('/') + 1);
  const url = `${statsUrl}/v1/experiments/${encodeURIComponent(experiment)}/results?metric=${TRUTH_METRIC}&control=control`;
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${readKey}` },
    signal: AbortSignal.timeout(30_000),
  }).catch((err: unknown) => `${String(err)}`);
  if (typeof res === 'string') return [`${key}: ${res}`];
  // 503 data_inconsistent: the sink's two topics are momentarily apart; the caller asks again.
  if (!res.ok) return [`${key}: stats ${res.status} ${(await res.text()).slice(0, 200)}`];
  const body = (await res.json()) as ResultsBody;
  const out: string[] = [];
  if (body.multiple_exposure_units !== expected.multipleExposureUnits)
    out.push(
      `${key}: multiple-exposure units ${body.multiple_exposure_units}, expected ${expected.multipleExposureUnits}`,
    );
  const actual = new Map(body.variations.map((v) => [v.variation, v]));
  const names = new Set([...Object.keys(expected.units), ...actual.keys()]);
  for (const name of [...names].sort()) {
    const got = actual.get(name);
    const units = expected.units[name] ?? 0;
    const conversions = expected.conversions[name] ?? 0;
    if ((got?.units ?? 0) !== units) out.push(`${key}/${name}: units ${got?.units ?? 0}, expected ${units}`);
    if ((got?.conversions ?? 0) !== conversions)
      out.push(
        `${key}/${name}: ${TRUTH_METRIC} conversions ${got?.conversions ?? 0}, expected ${conversions}`,
      );
  }
  return out;
}

/** Every difference between the stats service and the truth; empty when they agree exactly. */
export async function endToEndDifferences(opts: {
  statsUrl: string;
  readKeys: Record<string, string>;
  truth: Truth;
  probe: { readKey: string; accepted: number };
}): Promise<string[]> {
  const out: string[] = [];
  for (const [key, expected] of Object.entries(opts.truth).sort(([a], [b]) => a.localeCompare(b))) {
    const project = key.slice(0, key.indexOf('/'));
    out.push(...(await experimentDifferences(opts.statsUrl, opts.readKeys[project] ?? '', key, expected)));
  }
  const probes = await probeCounts(opts.statsUrl, opts.probe.readKey);
  for (const what of ['units', 'conversions'] as const)
    if ((probes?.[what] ?? 0) !== opts.probe.accepted)
      out.push(
        `${PROBE_EXPERIMENT}: ${probes?.[what] ?? 0} ${what}, expected ${opts.probe.accepted} (probes accepted)`,
      );
  return out;
}

/** (unit, experiment) exposures the truth expects, multiple-exposure units included: what the check covers. */
export function exposurePairs(truth: Truth): number {
  let n = 0;
  for (const t of Object.values(truth)) {
    n += t.multipleExposureUnits;
    for (const units of Object.values(t.units)) n += units;
  }
  return n;
}
