/**
 * Seeded, reproducible producer traffic for the end-to-end tests: the requests producers would send
 * to `POST /v1/batch` of several projects, with the expected verdict of every event, so that a test
 * can post them and compare the stats service with the reference over `expectedAccepted(scenario)`.
 *
 * What is in it (see ScenarioFeature, counted in `features`; the first 8 users of each project are
 * forced through the identity profiles, early conversions, sampling and missing ids, and every
 * project gets bots, e-mails, each invalid field and retries, so with ≥ 8 users every feature
 * appears — checked for 300 seeds at 10 users when this was written):
 * 2–3 arms per experiment with a real effect in the first treatment; anonymous users who log in
 * later (alias), some after converting; users on two devices (two anonymous ids aliased to one
 * user); a renamed account (a user id aliased as an anonymous id); conversions before exposure;
 * late and out-of-order delivery; retries of whole batches and of single events with the same
 * message_id; sampled events; events without value or without message_id; bots (dropped); e-mail
 * addresses (rejected) and other invalid fields (rejected).
 *
 * The traffic is ORDER-INSENSITIVE by construction, so the truth does not depend on which request
 * the gateway accepts first (concurrent posting, retries after 503): every message_id names one
 * event content (retries are exact copies), and every anonymous id is aliased to one user only.
 * Every valid event carries a timestamp (no receive-time defaults), so the truth is deterministic.
 *
 * Second edition (docs/semantics.md): every project carries a metric catalogue (SCENARIO_METRIC_CATALOGUE:
 * a windowed conversion with a delay, an absolute- and a percentile-capped mean, a count guardrail, a ratio
 * of a mean over a count of another event), the dimensions country and platform, and one experiment with a
 * metric set. Exposures carry `properties.country` (most) and `context.platform` (some; a few carry a
 * platform in properties too, which wins); a user's two devices are in two countries, so alias merges move
 * units across values; some logins chain (anon → device user → account); some users come back one to
 * two and a half days later (purchases, page views) and some hit errors, so windows and daily as_of points
 * matter. No alias cycles. No same-timestamp exposures of one person to one experiment, so a unit's first
 * exposure (its dimension values) is never a tie. These draws come from a second stream of the same seed,
 * so that they disturb the first edition's draws little (the first project's user plans keep them; the
 * extra events still shift the later shared draws: retries, delivery order, batching, the next project).
 *
 * Timing: valid timestamps lie in [now − days, now − 1 minute]; the deliberately bad ones are
 * 40 days old or 1 hour ahead. Post the scenario within (30 − days) days and 55 minutes of `now`.
 */
import type { MetricConfig, MetricSetConfig } from '../../../shared/projects/metric-catalog.ts';
import type { AcceptedEvent, ReferenceSettings } from '../reference/semantics-reference.ts';
import { seededRandom, stableBucket } from './seeded-random.ts';
import type { SeededRandom } from './seeded-random.ts';

/** One producer event as sent on the wire (snake_case, as shared/brief/semantics.md names them). */
export interface RawEvent {
  type?: string;
  user_id?: string;
  anonymous_id?: string;
  experiment?: string;
  variation?: string;
  event?: string;
  /** A number, or (deliberately invalid) a string. */
  value?: number | string;
  /** Flat map; deliberately invalid events may nest. */
  properties?: Record<string, unknown>;
  /** Unix ms (number) or ISO-8601 with a zone. */
  timestamp?: number | string;
  message_id?: string;
  sample?: number;
  decision_id?: string;
  context?: { user_agent?: string; locale?: string; platform?: string };
}

/** One request to the gateway: the project (whose write key to use) and the body's `batch`. */
export interface ProducerRequest {
  project: string;
  batch: RawEvent[];
}

/** What the gateway must do with one event (codes as in the gateway's catalogue). */
export type ExpectedOutcome =
  | { outcome: 'accepted' }
  | { outcome: 'dropped'; reason: 'bot' }
  | { outcome: 'rejected'; code: RejectionExpected };

/** Rejection codes this generator provokes on purpose. */
export type RejectionExpected =
  | 'pii_email'
  | 'invalid_sample'
  | 'invalid_event_name'
  | 'reserved_event_name'
  | 'invalid_type'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'missing_identity'
  | 'nested_property'
  | 'missing_field'
  | 'invalid_kind';

/** Injected behaviours, counted in `Scenario.features`. */
export const SCENARIO_FEATURES = [
  'three_arms',
  'alias_login',
  'alias_after_conversion',
  'two_devices',
  'user_id_aliased',
  'conversion_before_exposure',
  'both_ids_on_event',
  'decision_id_on_track',
  'late_delivery',
  'out_of_order',
  'batch_retry',
  'event_retry',
  'sampled_event',
  'value_absent',
  'no_message_id',
  'message_id_in_two_projects',
  'iso_timestamp',
  'iso_offset_timestamp',
  'ms_timestamp',
  'bot',
  'email_property',
  'email_id',
  'invalid_field',
  'chained_alias',
  'exposure_country',
  'exposure_context_platform',
  'countries_differ_across_devices',
  'platform_in_properties',
  'return_after_a_day',
  'error_event',
] as const;

export type ScenarioFeature = (typeof SCENARIO_FEATURES)[number];

/** An experiment of the scenario. */
export interface ScenarioExperiment {
  name: string;
  /** Variation names; the first is the control. */
  variations: string[];
  control: string;
  /** The arm with a real effect on purchase (rate ×1.6, values ×1.2) and signup (rate ×1.3). */
  effectVariation: string;
  /** Assignment weights, also the project's expectedSplit for the SRM check. */
  weights: Record<string, number>;
}

/** A project of the scenario and its analysis settings. */
export interface ScenarioProject {
  id: string;
  attribution: 'cumulative' | 'decision';
  experiments: ScenarioExperiment[];
  /** The project's dimension names (SCENARIO_DIMENSIONS). */
  dimensions: string[];
  /** The project's metric catalogue (SCENARIO_METRIC_CATALOGUE). */
  metrics: MetricConfig[];
  /** Experiment → metric set, as the projects file's `experiments` (the first experiment has one). */
  metricSets: Record<string, MetricSetConfig>;
}

/** Inputs of `generateScenario`. */
export interface ScenarioOptions {
  seed: number;
  /** Unix ms the timestamps are relative to: the time the scenario will be posted. */
  now: number;
  /** Users per project (at least 8 for every feature to appear). */
  users: number;
  /** Default 2. */
  projects?: number;
  /** Default 2. */
  experimentsPerProject?: number;
  /** Span of history in days, default 3 (must stay well inside the 30-day backfill window). */
  days?: number;
  /** Largest batch, default 100. */
  maxBatchSize?: number;
  /** Project ids, default `e2e-p1`, `e2e-p2`, ... */
  projectIds?: string[];
}

/** A generated scenario: what to post and what must come out. */
export interface Scenario {
  seed: number;
  now: number;
  projects: ScenarioProject[];
  /** Settings for the reference (and the project catalog): attribution and expected split. */
  settings: ReferenceSettings;
  /** Metric event names worth querying. */
  metrics: string[];
  /** In posting order. */
  requests: ProducerRequest[];
  /** outcomes[i][j] is the expected verdict of requests[i].batch[j]. */
  outcomes: ExpectedOutcome[][];
  features: Record<ScenarioFeature, number>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Metric events; page_view is the sampled one. */
export const SCENARIO_METRICS = ['purchase', 'signup', 'page_view'] as const;

/** Dimensions every scenario project declares. */
export const SCENARIO_DIMENSIONS = ['country', 'platform'] as const;

/**
 * The metric catalogue of every scenario project, in the parsed form (defaults written out). Sized to the
 * traffic: purchases are worth 15–173, up to 3 per visit plus a return visit, so the absolute cap of 150
 * bites; returns come 26–60 h after the first exposure, so the 1 h + 36 h window cuts some; page views
 * are counted for 48 h; two metrics carry CUPED covariates of purchases before the first exposure.
 */
export const SCENARIO_METRIC_CATALOGUE: readonly MetricConfig[] = [
  metricConfig('purchased_late', 'conversion', { event: 'purchase', window: { delay_hours: 1, hours: 36 } }),
  metricConfig('revenue', 'mean', { event: 'purchase' }),
  metricConfig('revenue_capped', 'mean', { event: 'purchase', cap: { absolute: 150 } }),
  metricConfig('revenue_p90', 'mean', { event: 'purchase', cap: { percentile: 0.9 } }),
  metricConfig('views', 'count', { event: 'page_view', window: { delay_hours: 0, hours: 48 } }),
  metricConfig('app_errors', 'count', { event: 'app_error', guardrail: true, direction: 'decrease' }),
  metricConfig('revenue_per_view', 'ratio', { numerator: 'revenue_capped', denominator: 'views' }),
  // CUPED: pre-exposure purchases come 1–180 min before the first exposure, so the 0.1-day (144 min)
  // lookback drops some of those the 14-day one keeps (the processor emits for the longest, 14 days).
  metricConfig('revenue_cuped', 'mean', { event: 'purchase', cuped: { days: 14 } }),
  metricConfig('orders_cuped', 'count', { event: 'purchase', cap: { absolute: 2 }, cuped: { days: 0.1 } }),
];

/** The metric set of each project's first experiment. */
export const SCENARIO_METRIC_SET: MetricSetConfig = {
  metrics: ['purchased_late', 'revenue_p90', 'revenue_per_view', 'revenue_cuped', 'orders_cuped'],
  guardrails: ['app_errors'],
  control: 'control',
};

function metricConfig(id: string, type: MetricConfig['type'], extra: Partial<MetricConfig>): MetricConfig {
  return { id, type, guardrail: false, direction: 'increase', ...extra };
}

/** Countries, most common first (drawn with weight 1/(rank + 1)): more than 20, so '(other)' pools some. */
const COUNTRIES = [
  'US',
  'DE',
  'FR',
  'GB',
  'ES',
  'IT',
  'NL',
  'BR',
  'IN',
  'JP',
  'CA',
  'AU',
  'SE',
  'PL',
  'MX',
  'KR',
  'BE',
  'CH',
  'AT',
  'DK',
  'NO',
  'FI',
  'IE',
  'PT',
] as const;
const PLATFORMS = ['web', 'ios', 'android'] as const;
const ERROR_CODES = ['E_TIMEOUT', 'E_RENDER', 'E_PAYMENT'] as const;

const HUMAN_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
] as const;

/** Known crawlers: the gateway drops them (isbot lists all of these). */
export const BOT_USER_AGENTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
] as const;

/** An event with its expected verdict, before batching. */
interface Planned {
  raw: RawEvent;
  /** Resolved event time, ms (what the delivery order is sorted by). */
  at: number;
  outcome: ExpectedOutcome;
}

type Profile = 'anonymous' | 'known' | 'login' | 'two_devices' | 'renamed';

/** What the generator remembers about a user while planning its events. */
interface UserPlan {
  /** The identity the user's SDK sends at time t (on device 0 or 1); `r` draws whether both ids are sent. */
  identityAt(t: number, device: number, r?: SeededRandom): Pick<RawEvent, 'user_id' | 'anonymous_id'>;
  devices: number;
  start: number;
  userAgent: string | null;
}

/** Builds a reproducible scenario; same options, same output (deep-equal, same JSON). */
export function generateScenario(options: ScenarioOptions): Scenario {
  const rng = seededRandom(options.seed);
  const projectCount = options.projects ?? 2;
  const experimentCount = options.experimentsPerProject ?? 2;
  const days = options.days ?? 3;
  const maxBatch = options.maxBatchSize ?? 100;
  const features = Object.fromEntries(SCENARIO_FEATURES.map((f) => [f, 0])) as Record<
    ScenarioFeature,
    number
  >;
  const count = (f: ScenarioFeature, n = 1): void => {
    features[f] += n;
  };
  // The second edition's draws come from their own stream, so the first edition's draws stay the same.
  const aux = seededRandom((options.seed ^ 0x9e3779b9) >>> 0);
  const gen: Generator = { rng, aux, now: options.now, days, count };

  const projects: ScenarioProject[] = [];
  const perProject: ProducerRequest[][] = [];
  const perProjectOutcomes: ExpectedOutcome[][][] = [];
  let firstProjectMessageId: string | null = null;
  for (let p = 0; p < projectCount; p++) {
    const project: ScenarioProject = {
      id: options.projectIds?.[p] ?? `e2e-p${p + 1}`,
      attribution: p % 2 === 0 ? 'cumulative' : 'decision',
      experiments: Array.from({ length: experimentCount }, (_, j) => makeExperiment(j, gen)),
      dimensions: [...SCENARIO_DIMENSIONS],
      metrics: SCENARIO_METRIC_CATALOGUE.map((m) => structuredClone(m)),
      metricSets: {},
    };
    project.metricSets[(project.experiments[0] as ScenarioExperiment).name] =
      structuredClone(SCENARIO_METRIC_SET);
    projects.push(project);
    const planned: Planned[] = [];
    for (let i = 0; i < options.users; i++) planUser(gen, project, i, planned);
    planBots(gen, project, Math.max(1, Math.round(options.users * 0.02)), planned);
    planBadEvents(gen, project, options.users, planned);
    if (p > 0 && firstProjectMessageId !== null) reuseMessageId(gen, planned, firstProjectMessageId);
    planEventRetries(gen, planned);
    const ordered = deliveryOrder(gen, planned);
    if (p === 0)
      firstProjectMessageId =
        ordered.find((e) => e.outcome.outcome === 'accepted' && e.raw.message_id !== undefined)?.raw
          .message_id ?? null;
    const { requests, outcomes } = batches(gen, project.id, ordered, maxBatch);
    perProject.push(requests);
    perProjectOutcomes.push(outcomes);
  }

  // Interleave the projects' request streams, keeping each project's own order.
  const requests: ProducerRequest[] = [];
  const outcomes: ExpectedOutcome[][] = [];
  const cursors = perProject.map(() => 0);
  for (;;) {
    const open = cursors
      .map((c, p) => (c < (perProject[p] as ProducerRequest[]).length ? p : -1))
      .filter((p) => p >= 0);
    if (open.length === 0) break;
    const p = rng.pick(open);
    const c = cursors[p] as number;
    requests.push((perProject[p] as ProducerRequest[])[c] as ProducerRequest);
    outcomes.push((perProjectOutcomes[p] as ExpectedOutcome[][])[c] as ExpectedOutcome[]);
    cursors[p] = c + 1;
  }

  const settings: Record<
    string,
    { attribution: 'cumulative' | 'decision'; expectedSplit: Record<string, Record<string, number>> }
  > = {};
  for (const project of projects) {
    settings[project.id] = {
      attribution: project.attribution,
      expectedSplit: Object.fromEntries(project.experiments.map((e) => [e.name, e.weights])),
    };
  }
  return {
    seed: options.seed,
    now: options.now,
    projects,
    settings,
    metrics: [...SCENARIO_METRICS],
    requests,
    outcomes,
    features,
  };
}

/**
 * The events the gateway must accept, in posting order (request by request, then batch index), as
 * the reference takes them: timestamps resolved to unix ms. Because the scenario is order-insensitive
 * (see the module comment) the reference gives the same figures for any acceptance order.
 */
export function expectedAccepted(scenario: Scenario): AcceptedEvent[] {
  const out: AcceptedEvent[] = [];
  scenario.requests.forEach((request, i) => {
    request.batch.forEach((raw, j) => {
      if (scenario.outcomes[i]?.[j]?.outcome !== 'accepted') return;
      out.push(toAccepted(request.project, raw));
    });
  });
  return out;
}

/** Number of events per expected verdict ('accepted', 'dropped:bot', 'rejected:<code>'). */
export function expectedVerdictCounts(scenario: Scenario): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const batch of scenario.outcomes) {
    for (const o of batch) {
      const key =
        o.outcome === 'accepted'
          ? 'accepted'
          : o.outcome === 'dropped'
            ? `dropped:${o.reason}`
            : `rejected:${o.code}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** Event time of a valid raw event in unix ms (numbers as they are; ISO strings parsed). */
export function resolveTimestamp(timestamp: number | string): number {
  return typeof timestamp === 'number' ? Math.floor(timestamp) : Date.parse(timestamp);
}

function toAccepted(project: string, raw: RawEvent): AcceptedEvent {
  if (raw.timestamp === undefined) throw new Error('scenario events always carry a timestamp');
  if (raw.type !== 'exposure' && raw.type !== 'track' && raw.type !== 'alias') {
    throw new Error(`an accepted event has type ${String(raw.type)}`);
  }
  if (typeof raw.value === 'string') throw new Error('an accepted event has a string value');
  const properties = raw.properties === undefined ? null : flatProperties(raw.properties);
  return {
    project,
    kind: raw.type,
    timestamp: resolveTimestamp(raw.timestamp),
    message_id: raw.message_id ?? null,
    user_id: raw.user_id ?? null,
    anonymous_id: raw.anonymous_id ?? null,
    experiment: raw.experiment ?? null,
    variation: raw.variation ?? null,
    decision_id: raw.decision_id ?? null,
    event: raw.event ?? null,
    value: raw.value ?? null,
    sample: raw.sample ?? null,
    properties,
    context: raw.context === undefined ? null : { ...raw.context },
  };
}

/** An accepted event's properties: flat string, number or boolean values (anything else is a bug here). */
function flatProperties(properties: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`an accepted event has property ${key} = ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

interface Generator {
  rng: SeededRandom;
  /** The second edition's stream (dimensions, chained aliases, returns, errors). */
  aux: SeededRandom;
  now: number;
  days: number;
  count: (feature: ScenarioFeature, n?: number) => void;
}

function makeExperiment(j: number, gen: Generator): ScenarioExperiment {
  const name = `exp_${j + 1}`;
  if (j % 2 === 1) {
    gen.count('three_arms');
    return {
      name,
      variations: ['control', 'treatment_a', 'treatment_b'],
      control: 'control',
      effectVariation: 'treatment_a',
      weights: { control: 2, treatment_a: 1, treatment_b: 1 },
    };
  }
  return {
    name,
    variations: ['control', 'treatment'],
    control: 'control',
    effectVariation: 'treatment',
    weights: { control: 1, treatment: 1 },
  };
}

/** The variation an SDK would give `identity`: a stable hash bucket over the weights. */
function assign(experiment: ScenarioExperiment, identity: string): string {
  const total = Object.values(experiment.weights).reduce((s, w) => s + w, 0);
  let bucket = stableBucket(`${experiment.name}:${identity}`) * total;
  for (const v of experiment.variations) {
    bucket -= experiment.weights[v] as number;
    if (bucket < 0) return v;
  }
  return experiment.variations[experiment.variations.length - 1] as string;
}

// The first users of every project take each profile in turn, so every identity feature appears.
const FORCED_PROFILES: Profile[] = [
  'login',
  'two_devices',
  'renamed',
  'anonymous',
  'known',
  'login',
  'two_devices',
  'login',
];

function pickProfile(rng: SeededRandom, i: number): Profile {
  const forced = FORCED_PROFILES[i];
  if (forced !== undefined) return forced;
  const r = rng.next();
  if (r < 0.35) return 'anonymous';
  if (r < 0.65) return 'login';
  if (r < 0.8) return 'known';
  if (r < 0.97) return 'two_devices';
  return 'renamed';
}

/** A valid timestamp in one of the three accepted forms, counting the form used. */
function stamp(gen: Generator, at: number, rng: SeededRandom = gen.rng): number | string {
  const r = rng.next();
  if (r < 0.55) {
    gen.count('ms_timestamp');
    return at;
  }
  if (r < 0.85) {
    gen.count('iso_timestamp');
    return new Date(at).toISOString();
  }
  gen.count('iso_offset_timestamp');
  const offsetMinutes = rng.pick([120, 330, -300, -420, 60]);
  const local = new Date(at + offsetMinutes * MINUTE).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function messageId(gen: Generator, i: number, rng: SeededRandom = gen.rng): string | undefined {
  // Some producers send no message_id (user 4's old SDK, and a few stray events); those events are
  // never retried one by one, but a retried batch counts them twice, as the semantics say.
  if (i === 4 || (i >= 8 && rng.chance(0.04))) {
    gen.count('no_message_id');
    return undefined;
  }
  return `msg_${rng.hex(20)}`;
}

/** Clamps a planned time to the valid window (history start .. one minute ago). */
function clampTime(gen: Generator, at: number): number {
  return Math.round(Math.min(gen.now - MINUTE, Math.max(gen.now - gen.days * DAY, at)));
}

function planUser(gen: Generator, project: ScenarioProject, i: number, out: Planned[]): void {
  const { rng } = gen;
  const profile = pickProfile(rng, i);
  const start = gen.now - gen.days * DAY + rng.next() * (gen.days * DAY - 14 * HOUR);
  const userId = `user_${rng.hex(12)}`;
  const anon = [`anon_${rng.hex(12)}`, `anon_${rng.hex(12)}`];
  const loginAt = [start + rng.int(1, 6) * HOUR, start + rng.int(7, 11) * HOUR];
  const oldUserId = `user_${rng.hex(12)}`;
  const renameAt = start + rng.int(2, 8) * HOUR;
  // Second edition, from the aux stream: a chained login (anon → device user → account on device 0),
  // each device's country (two devices: two countries) and platform.
  const { aux } = gen;
  const chained =
    (profile === 'login' || profile === 'two_devices') &&
    (i === 5 || i === 6 || (i >= FORCED_PROFILES.length && aux.chance(0.3)));
  const deviceUserId = `user_${aux.hex(12)}`;
  const upgradeAt = (loginAt[0] as number) + aux.int(1, 4) * HOUR;
  const firstCountry = pickCountry(aux, null);
  const countries = [firstCountry, pickCountry(aux, firstCountry)];
  const platforms = [0, 1].map((d) => (aux.chance(0.6) || (i === 3 && d === 0) ? aux.pick(PLATFORMS) : null));
  const user: UserPlan = {
    devices: profile === 'two_devices' ? 2 : 1,
    start,
    userAgent: rng.chance(0.85) ? rng.pick(HUMAN_USER_AGENTS) : null,
    identityAt(t, device, r = rng) {
      if (profile === 'known') return { user_id: userId };
      if (profile === 'renamed') return { user_id: t < renameAt ? oldUserId : userId };
      const anonymousId = anon[device] as string;
      if (profile === 'anonymous' || t < (loginAt[device] as number)) return { anonymous_id: anonymousId };
      const loggedIn = chained && device === 0 && t < upgradeAt ? deviceUserId : userId;
      // After login some SDKs send both ids: the event belongs to the user either way.
      return r.chance(0.3) ? { user_id: loggedIn, anonymous_id: anonymousId } : { user_id: loggedIn };
    },
  };
  const push = (raw: RawEvent, at: number): void => {
    const ids = raw.user_id !== undefined && raw.anonymous_id !== undefined;
    if (ids && raw.type !== 'alias') gen.count('both_ids_on_event');
    out.push({ raw, at, outcome: { outcome: 'accepted' } });
  };
  const context = (): Pick<RawEvent, 'context'> =>
    user.userAgent === null ? {} : { context: { user_agent: user.userAgent, locale: 'en-US' } };
  // Exposures also carry the device's platform in context, when the SDK knows it.
  const exposureContext = (device: number): Pick<RawEvent, 'context'> => {
    const platform = platforms[device];
    if (platform === null || platform === undefined) return context();
    gen.count('exposure_context_platform');
    return { context: { ...context().context, platform } };
  };
  // Most exposures carry the device's country; a few (all of user 3's) a platform too, which wins over context.
  const exposureProperties = (device: number): Pick<RawEvent, 'properties'> => {
    if (!aux.chance(0.85)) return {};
    gen.count('exposure_country');
    if (!(i === 3 || aux.chance(0.08))) return { properties: { country: countries[device] } };
    gen.count('platform_in_properties');
    return { properties: { country: countries[device], platform: 'web' } };
  };

  // Aliases (their own timestamps do not matter to the semantics; they are delivered shuffled too).
  if (profile === 'login' || profile === 'two_devices') {
    for (let d = 0; d < user.devices; d++) {
      const at = clampTime(gen, loginAt[d] as number);
      push(
        {
          type: 'alias',
          anonymous_id: anon[d] as string,
          user_id: chained && d === 0 ? deviceUserId : userId,
          timestamp: stamp(gen, at),
          ...withId(messageId(gen, i)),
        },
        at,
      );
      gen.count('alias_login');
    }
    if (profile === 'two_devices') {
      gen.count('two_devices');
      gen.count('countries_differ_across_devices');
    }
  }
  if (chained) {
    // The device user later joins the account: anon → device user → account.
    const at = clampTime(gen, upgradeAt);
    push(
      {
        type: 'alias',
        anonymous_id: deviceUserId,
        user_id: userId,
        timestamp: stamp(gen, at, aux),
        ...withId(messageId(gen, i, aux)),
      },
      at,
    );
    gen.count('chained_alias');
  }
  if (profile === 'renamed') {
    const at = clampTime(gen, renameAt);
    push(
      {
        type: 'alias',
        anonymous_id: oldUserId,
        user_id: userId,
        timestamp: stamp(gen, at),
        ...withId(messageId(gen, i)),
      },
      at,
    );
    gen.count('user_id_aliased');
  }

  // Exposures: the variation comes from the id the SDK sends at the time, so two devices or a
  // login can put one person in two variations (the multiple-exposure case).
  const exposures: { experiment: ScenarioExperiment; at: number; variation: string; decisionId?: string }[] =
    [];
  for (const experiment of project.experiments) {
    if (!rng.chance(0.8) && i >= FORCED_PROFILES.length) continue;
    const times = Array.from({ length: rng.int(1, 3) }, () =>
      clampTime(gen, start + rng.int(10, 12 * 60) * MINUTE),
    );
    // One person's exposures to one experiment never share a timestamp, so a unit's first exposure (and
    // with it its dimension values) is never a tie, whichever ids an alias merges.
    const used = new Set<number>();
    for (const planned of times) {
      let at = planned;
      while (used.has(at)) at += 1000;
      used.add(at);
      const device = rng.int(0, user.devices - 1);
      const ids = user.identityAt(at, device);
      const variation = assign(experiment, ids.user_id ?? (ids.anonymous_id as string));
      const decisionId = rng.chance(0.7) ? `dec_${rng.hex(12)}` : undefined;
      exposures.push({ experiment, at, variation, ...(decisionId === undefined ? {} : { decisionId }) });
      push(
        {
          type: 'exposure',
          ...ids,
          experiment: experiment.name,
          variation,
          timestamp: stamp(gen, at),
          ...withId(messageId(gen, i)),
          ...(decisionId === undefined ? {} : { decision_id: decisionId }),
          ...exposureProperties(device),
          ...exposureContext(device),
        },
        at,
      );
    }
  }

  // The effect follows the person's first exposure per experiment (an approximation for merged ids).
  const firstByExperiment = new Map<string, { at: number; variation: string }>();
  for (const e of exposures) {
    const seen = firstByExperiment.get(e.experiment.name);
    if (seen === undefined || e.at < seen.at)
      firstByExperiment.set(e.experiment.name, { at: e.at, variation: e.variation });
  }
  const treated = project.experiments.filter(
    (x) => firstByExperiment.get(x.name)?.variation === x.effectVariation,
  ).length;
  const firstExposure = Math.min(...[...firstByExperiment.values()].map((f) => f.at), start + 12 * HOUR);

  const track = (event: string, at: number, extra: Partial<RawEvent>, r: SeededRandom = rng): void => {
    const device = r.int(0, user.devices - 1);
    const ids = user.identityAt(at, device, r);
    const decision = r.chance(0.4)
      ? r.pick([...exposures.filter((e) => e.at <= at && e.decisionId !== undefined), null])
      : null;
    if (decision !== null && decision !== undefined) gen.count('decision_id_on_track');
    push(
      {
        type: 'track',
        ...ids,
        event,
        timestamp: stamp(gen, at, r),
        ...withId(messageId(gen, i, r)),
        ...(decision?.decisionId === undefined ? {} : { decision_id: decision.decisionId }),
        ...extra,
        ...context(),
      },
      at,
    );
    if (
      ids.anonymous_id !== undefined &&
      ids.user_id === undefined &&
      (profile === 'login' || profile === 'two_devices')
    ) {
      gen.count('alias_after_conversion');
    }
  };

  // Purchases: a real effect in each experiment's effect arm; some happen before exposure.
  const purchaseRate = 0.15 * Math.pow(1.6, treated);
  if (rng.chance(purchaseRate) || i < 3) {
    const n = rng.int(1, 3);
    for (let k = 0; k < n; k++) {
      const before = (k === 0 && i < 2) || rng.chance(0.1);
      const at = clampTime(
        gen,
        before ? firstExposure - rng.int(1, 180) * MINUTE : firstExposure + rng.int(0, 120) * MINUTE,
      );
      if (exposures.length > 0 && at < firstExposure) gen.count('conversion_before_exposure');
      const withoutValue = (i === 0 && k === 0) || rng.chance(0.05);
      if (withoutValue) gen.count('value_absent');
      const value = Math.round(rng.int(1500, 12000) * Math.pow(1.2, treated)) / 100;
      track('purchase', at, {
        ...(withoutValue ? {} : { value }),
        properties: { currency: 'EUR', items: rng.int(1, 5), coupon: rng.chance(0.2) },
      });
    }
  }
  // Signups: no value at all.
  if (rng.chance(0.3 * Math.pow(1.3, treated)))
    track('signup', clampTime(gen, firstExposure + rng.int(0, 300) * MINUTE), {});
  // Page views: sampled by the SDK at a per-user rate; only the kept ones are sent, weighing 1/sample.
  const sample = i === 0 ? 0.1 : rng.pick([1, 1, 0.5, 0.25, 0.1, 0.37]);
  const views = rng.int(2, 6);
  for (let k = 0; k < views; k++) {
    if (!(rng.chance(sample) || (i === 0 && k === 0))) continue;
    if (sample < 1) gen.count('sampled_event');
    const at = clampTime(gen, start + rng.int(0, 12 * 60) * MINUTE);
    track('page_view', at, {
      ...(sample < 1 || rng.chance(0.2) ? { sample } : {}),
      properties: { path: `/p/${rng.int(1, 40)}` },
    });
  }

  // Second edition, from the aux stream. A return visit 26–60 h after the first exposure (metric windows
  // and daily as_of points), for every forced user with room before now and a quarter of the others.
  const returnAt = firstExposure + aux.int(26 * 60, 60 * 60) * MINUTE;
  if ((i < FORCED_PROFILES.length || aux.chance(0.25)) && returnAt <= gen.now - HOUR) {
    gen.count('return_after_a_day');
    if (i < 2 || aux.chance(0.5 * Math.pow(1.2, treated))) {
      const value = Math.round(aux.int(1500, 12000) * Math.pow(1.2, treated)) / 100;
      track('purchase', returnAt + aux.int(1, 30) * MINUTE, { value }, aux);
    }
    for (let k = aux.int(1, 2); k > 0; k--) {
      track(
        'page_view',
        returnAt + aux.int(0, 30) * MINUTE,
        { properties: { path: `/p/${aux.int(1, 40)}` } },
        aux,
      );
    }
  }
  // App errors (the guardrail), a little more often in effect arms; some before the first exposure.
  if (i === 1 || aux.chance(0.3 * Math.pow(1.25, treated))) {
    for (let k = aux.int(1, 3); k > 0; k--) {
      const at = firstExposure + aux.int(-120, 60 * 60) * MINUTE;
      if (at > gen.now - MINUTE) continue;
      track('app_error', clampTime(gen, at), { properties: { code: aux.pick(ERROR_CODES) } }, aux);
      gen.count('error_event');
    }
  }
}

/** A country by weight 1/(rank + 1), other than `not`. */
function pickCountry(rng: SeededRandom, not: string | null): string {
  const candidates = COUNTRIES.filter((c) => c !== not);
  const weights = candidates.map((c) => 1 / (COUNTRIES.indexOf(c) + 1));
  let r = rng.next() * weights.reduce((s, w) => s + w, 0);
  for (const [k, c] of candidates.entries()) {
    r -= weights[k] as number;
    if (r < 0) return c;
  }
  return candidates[candidates.length - 1] as string;
}

function withId(id: string | undefined): Pick<RawEvent, 'message_id'> {
  return id === undefined ? {} : { message_id: id };
}

/** Bots behave like users (exposures, page views, purchases) but their user agent gets them dropped. */
function planBots(gen: Generator, project: ScenarioProject, bots: number, out: Planned[]): void {
  const { rng } = gen;
  for (let b = 0; b < bots; b++) {
    const anonymousId = `anon_${rng.hex(12)}`;
    const userAgent = rng.pick(BOT_USER_AGENTS);
    const start = gen.now - gen.days * DAY + rng.next() * (gen.days * DAY - HOUR);
    const events: RawEvent[] = [];
    for (const experiment of project.experiments) {
      events.push({
        type: 'exposure',
        anonymous_id: anonymousId,
        experiment: experiment.name,
        variation: assign(experiment, anonymousId),
      });
    }
    events.push({ type: 'track', anonymous_id: anonymousId, event: 'page_view' });
    events.push({ type: 'track', anonymous_id: anonymousId, event: 'purchase', value: 10 });
    for (const raw of events) {
      const at = clampTime(gen, start + rng.int(0, 50) * MINUTE);
      out.push({
        raw: {
          ...raw,
          timestamp: stamp(gen, at),
          message_id: `msg_${rng.hex(20)}`,
          context: { user_agent: userAgent },
        },
        at,
        outcome: { outcome: 'dropped', reason: 'bot' },
      });
      gen.count('bot');
    }
  }
}

/**
 * Events the gateway must reject: e-mail addresses (personal data) and one of each invalid field.
 * They borrow a real user's identity from the planned events, so if one were let in it would change
 * the numbers.
 */
function planBadEvents(gen: Generator, project: ScenarioProject, users: number, out: Planned[]): void {
  const { rng } = gen;
  const good = out.filter((p) => p.outcome.outcome === 'accepted' && p.raw.type === 'track');
  const someone = (): Pick<RawEvent, 'user_id' | 'anonymous_id'> => {
    const { raw } = good.length > 0 ? rng.pick(good) : { raw: { anonymous_id: 'anon_fallback' } as RawEvent };
    return raw.user_id !== undefined
      ? { user_id: raw.user_id }
      : { anonymous_id: raw.anonymous_id as string };
  };
  const experiment = project.experiments[0] as ScenarioExperiment;
  const atValid = (): number => clampTime(gen, gen.now - rng.next() * gen.days * DAY);
  const reject = (raw: RawEvent, code: RejectionExpected, at: number): void => {
    out.push({
      raw: { ...raw, message_id: `msg_${rng.hex(20)}` },
      at,
      outcome: { outcome: 'rejected', code },
    });
  };
  const purchaseAt = (timestamp: number | string): RawEvent => ({
    type: 'track',
    ...someone(),
    event: 'purchase',
    value: 42,
    timestamp,
  });
  const purchase = (at: number): RawEvent => purchaseAt(stamp(gen, at));

  const emails = Math.max(1, Math.round(users * 0.01));
  for (let k = 0; k < emails; k++) {
    const at = atValid();
    reject(
      { ...purchase(at), properties: { email: `jane.doe${k}@example.com`, plan: 'pro' } },
      'pii_email',
      at,
    );
    gen.count('email_property');
  }
  {
    const at = atValid();
    reject(
      {
        type: 'track',
        user_id: 'john.smith@example.org',
        event: 'purchase',
        value: 5,
        timestamp: stamp(gen, at),
      },
      'pii_email',
      at,
    );
    gen.count('email_id');
  }

  const invalid: [(at: number) => RawEvent, RejectionExpected][] = [
    [(at) => ({ ...purchase(at), sample: 0.005 }), 'invalid_sample'],
    [(at) => ({ ...purchase(at), event: 'Add To Cart' }), 'invalid_event_name'],
    [(at) => ({ ...purchase(at), event: '$exposure' }), 'reserved_event_name'],
    [(at) => ({ ...purchase(at), value: '19.99' }), 'invalid_type'],
    [() => purchaseAt(gen.now - 40 * DAY), 'timestamp_too_old'],
    [() => purchaseAt(new Date(gen.now + HOUR).toISOString()), 'timestamp_in_future'],
    [
      (at) => ({ type: 'track', event: 'purchase', value: 42, timestamp: stamp(gen, at) }),
      'missing_identity',
    ],
    [(at) => ({ ...purchase(at), properties: { cart: { items: 2 } } }), 'nested_property'],
    [
      (at) => ({ type: 'exposure', ...someone(), experiment: experiment.name, timestamp: stamp(gen, at) }),
      'missing_field',
    ],
    [(at) => ({ ...purchase(at), type: 'click' }), 'invalid_kind'],
  ];
  for (const [make, code] of invalid) {
    const at = atValid();
    reject(make(at), code, at);
    gen.count('invalid_field');
  }
}

/** The same message_id as an event of the first project: per-project dedup must keep both. */
function reuseMessageId(gen: Generator, out: Planned[], id: string): void {
  const candidates = out.filter((p) => p.outcome.outcome === 'accepted' && p.raw.message_id !== undefined);
  if (candidates.length === 0) return;
  gen.rng.pick(candidates).raw.message_id = id;
  gen.count('message_id_in_two_projects');
}

/** Exact copies of some events with a message_id, sent again later (a client retrying one event). */
function planEventRetries(gen: Generator, out: Planned[]): void {
  const candidates = out.filter((p) => p.raw.message_id !== undefined && p.outcome.outcome !== 'dropped');
  const copies: Planned[] = [];
  candidates.forEach((p, k) => {
    if (k !== 0 && !gen.rng.chance(0.03)) return;
    // Delivered up to two days later than the original's event time; always an exact copy.
    copies.push({
      raw: structuredClone(p.raw),
      at: p.at + gen.rng.int(1, 48 * 60) * MINUTE,
      outcome: p.outcome,
    });
    gen.count('event_retry');
  });
  out.push(...copies);
}

/**
 * Delivery order: roughly by event time with hours of jitter (out of order), and some events held
 * back and delivered at the very end (late: an offline device flushing its queue).
 */
function deliveryOrder(gen: Generator, planned: Planned[]): Planned[] {
  const { rng } = gen;
  const keyed = planned.map((p, k) => ({
    p,
    key: p.at + rng.next() * 3 * HOUR,
    late: k === 0 || rng.chance(0.05),
  }));
  const onTime = keyed.filter((x) => !x.late).sort((a, b) => a.key - b.key);
  const late = rng.shuffle(keyed.filter((x) => x.late));
  gen.count('late_delivery', late.length);
  const ordered = [...onTime, ...late].map((x) => x.p);
  for (let k = 1; k < ordered.length; k++) {
    if ((ordered[k] as Planned).at < (ordered[k - 1] as Planned).at) gen.count('out_of_order');
  }
  return ordered;
}

/** Cuts the stream into batches of 1..maxBatch and re-sends some whole batches (client retries). */
function batches(
  gen: Generator,
  project: string,
  ordered: Planned[],
  maxBatch: number,
): { requests: ProducerRequest[]; outcomes: ExpectedOutcome[][] } {
  const { rng } = gen;
  const requests: ProducerRequest[] = [];
  const outcomes: ExpectedOutcome[][] = [];
  for (let k = 0; k < ordered.length;) {
    const size = rng.int(1, maxBatch);
    const chunk = ordered.slice(k, k + size);
    k += size;
    requests.push({ project, batch: chunk.map((p) => p.raw) });
    outcomes.push(chunk.map((p) => p.outcome));
  }
  // Retries: a copy of a batch re-sent right after it (a timeout) or some requests later.
  const withRetries: { request: ProducerRequest; outcomes: ExpectedOutcome[] }[] = requests.map(
    (request, k) => ({
      request,
      outcomes: outcomes[k] as ExpectedOutcome[],
    }),
  );
  const originals = [...withRetries];
  originals.forEach((original, k) => {
    if (k !== 0 && !rng.chance(0.05)) return;
    const at = Math.min(withRetries.length, withRetries.indexOf(original) + 1 + rng.int(0, 5));
    withRetries.splice(at, 0, { request: structuredClone(original.request), outcomes: original.outcomes });
    gen.count('batch_retry');
  });
  return { requests: withRetries.map((r) => r.request), outcomes: withRetries.map((r) => r.outcomes) };
}
