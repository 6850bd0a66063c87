/**
 * A seeded producer scenario for the SDK's end-to-end tests: the calls an application makes
 * (exposures, repeated as pages re-render; purchases and sign-ups, some before the exposure; anonymous
 * visitors, some of whom sign in and are aliased) and the events the pipeline must count for them,
 * in the reference's terms (test/e2e/reference). Timestamps are explicit, so the reference knows them.
 */
import type { AliasInput, ExposureInput, TrackInput } from '../../sdk/src/index.ts';
import type { ExperimentResults } from '../../services/stats/src/math/types.ts';
import { resultsDifferences } from '../e2e/reference/results-difference.ts';
import { awaitConverged } from './await-converged.ts';
import { referenceResults, type AcceptedEvent } from '../e2e/reference/semantics-reference.ts';
import { seededRandom } from '../e2e/scenario/seeded-random.ts';

export type SdkCall =
  | { kind: 'exposure'; input: ExposureInput }
  | { kind: 'track'; input: TrackInput }
  | { kind: 'alias'; input: AliasInput };

export interface SdkScenario {
  calls: SdkCall[];
  experiments: { name: string; control: string }[];
  metrics: string[];
  /** Exposure calls the SDK must skip as repeats. */
  repeatedExposures: number;
  /** The events the pipeline must count, one per call the SDK does not skip. */
  accepted(project: string): AcceptedEvent[];
}

export function sdkScenario(opts: { seed: number; users: number; now: number }): SdkScenario {
  const rnd = seededRandom(opts.seed);
  const experiments = [
    { name: 'checkout_flow', control: 'control', variations: ['control', 'treatment'] },
    { name: 'pricing_page', control: 'control', variations: ['control', 'cheaper', 'annual'] },
  ];
  // Explicit, increasing timestamps over the last few minutes (the gateway refuses the future).
  let clock = opts.now - 10 * 60_000;
  const at = (): number => (clock += rnd.int(1, 200));
  const calls: SdkCall[] = [];
  const counted: Array<Omit<AcceptedEvent, 'project'>> = [];
  let repeatedExposures = 0;

  for (let u = 0; u < opts.users; u++) {
    const anonymous = rnd.chance(0.3);
    const userId = `u-${opts.seed}-${u}`;
    const id = anonymous ? { anonymous_id: `a-${opts.seed}-${u}` } : { user_id: userId };
    const trackCall = (event: string, value?: number): void => {
      const input: TrackInput = { ...id, event, timestamp: at(), ...(value === undefined ? {} : { value }) };
      calls.push({ kind: 'track', input });
      counted.push({
        kind: 'track',
        ...idFields(input),
        event,
        value: value ?? null,
        timestamp: input.timestamp as number,
      });
    };
    if (rnd.chance(0.2)) trackCall('purchase', rnd.int(1, 40) * 2.5); // before any exposure: never attributed
    for (const e of experiments) {
      if (!rnd.chance(0.8)) continue;
      const input: ExposureInput = {
        ...id,
        experiment: e.name,
        variation: rnd.pick(e.variations),
        timestamp: at(),
      };
      calls.push({ kind: 'exposure', input });
      counted.push({
        kind: 'exposure',
        ...idFields(input),
        experiment: e.name,
        variation: input.variation,
        timestamp: input.timestamp as number,
      });
      for (let r = rnd.int(0, 2); r > 0; r--) {
        calls.push({ kind: 'exposure', input: { ...input, timestamp: at() } });
        repeatedExposures++;
      }
    }
    for (let p = rnd.int(0, 3); p > 0; p--) trackCall('purchase', rnd.int(1, 40) * 2.5);
    if (rnd.chance(0.3)) trackCall('signup');
    if (anonymous && rnd.chance(0.5)) {
      const input: AliasInput = { anonymous_id: id.anonymous_id as string, user_id: userId, timestamp: at() };
      calls.push({ kind: 'alias', input });
      counted.push({
        kind: 'alias',
        anonymous_id: input.anonymous_id,
        user_id: userId,
        timestamp: input.timestamp as number,
      });
      // Signed in: the user's later purchases carry the user id and count for the anonymous unit's arm.
      if (rnd.chance(0.7)) {
        const later: TrackInput = {
          user_id: userId,
          event: 'purchase',
          value: rnd.int(1, 40) * 2.5,
          timestamp: at(),
        };
        calls.push({ kind: 'track', input: later });
        counted.push({
          kind: 'track',
          user_id: userId,
          anonymous_id: null,
          event: 'purchase',
          value: later.value as number,
          timestamp: later.timestamp as number,
        });
      }
    }
  }
  return {
    calls,
    experiments: experiments.map(({ name, control }) => ({ name, control })),
    metrics: ['purchase', 'signup'],
    repeatedExposures,
    accepted: (project) => counted.map((e) => ({ ...e, project })),
  };
}

function idFields(input: {
  user_id?: string;
  anonymous_id?: string;
}): Pick<AcceptedEvent, 'user_id' | 'anonymous_id'> {
  return { user_id: input.user_id ?? null, anonymous_id: input.anonymous_id ?? null };
}

/** Replays the calls on a client (anything with the SDK's three methods). */
export function replay(
  client: { exposure(e: ExposureInput): void; track(e: TrackInput): void; alias(e: AliasInput): void },
  calls: readonly SdkCall[],
): void {
  for (const call of calls) {
    if (call.kind === 'exposure') client.exposure(call.input);
    else if (call.kind === 'track') client.track(call.input);
    else client.alias(call.input);
  }
}

/**
 * Polls the stats service until every experiment × metric of the scenario equals the reference over
 * the events that must count, or the time is up; returns what still differs, keyed `experiment/metric`.
 */
export async function awaitScenarioResults(opts: {
  statsUrl: string;
  readKey: string;
  project: string;
  scenario: SdkScenario;
  timeoutMs: number;
}): Promise<Record<string, string[]>> {
  const events = opts.scenario.accepted(opts.project);
  const settings = { [opts.project]: { attribution: 'cumulative' as const } };
  const deadline = Date.now() + opts.timeoutMs;
  const remaining: Record<string, string[]> = {};
  for (const experiment of opts.scenario.experiments) {
    for (const metric of opts.scenario.metrics) {
      const expected = referenceResults(events, settings, opts.project, experiment.name, metric, {
        control: experiment.control,
      });
      if (!expected.ok) throw new Error(`reference: ${expected.error.message}`);
      const differencesNow = async (): Promise<string[]> => {
        const url = `${opts.statsUrl}/v1/experiments/${experiment.name}/results?metric=${metric}&control=${experiment.control}`;
        const res = await fetch(url, { headers: { authorization: `Bearer ${opts.readKey}` } });
        return res.status === 200
          ? resultsDifferences((await res.json()) as ExperimentResults, expected.value)
          : [`stats ${res.status}: ${(await res.text()).slice(0, 200)}`];
      };
      const differences = await awaitConverged(differencesNow, deadline);
      if (differences.length > 0) remaining[`${experiment.name}/${metric}`] = differences;
    }
  }
  return remaining;
}
