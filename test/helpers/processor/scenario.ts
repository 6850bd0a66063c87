/**
 * Random but reproducible ingest streams for the processor's integration tests: exposures,
 * tracks before and after exposure, conflicting variations, retried duplicates (same
 * message_id, new event_id) and aliases of anonymous ids that arrive after their conversions.
 * Aliases are one step (anonymous → user, users never aliased), as the batch reference assumes.
 * Exposures carry dimension material (SCENARIO_DIMENSIONS): `country` and `seats` properties that
 * differ between a unit's exposures, and `plan` in the context of all its events.
 */
import type { IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';

export interface ScenarioOptions {
  units: number;
  seed: number;
  /** Event times are spread over the hour before this instant (unix ms). */
  nowMs: number;
  /** Project of every event (p: cumulative, pd: decision). */
  project?: string;
}

/** Dimensions the scenario's events have values for: declare them to follow them through. */
export const SCENARIO_DIMENSIONS = ['country', 'plan', 'seats'] as const;
const COUNTRIES = ['DE', 'FR', 'US'];

/** A seeded PRNG (mulberry32): the same seed gives the same scenario. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ingest events of `units` units, in acceptance order. */
export function generateScenario(o: ScenarioOptions): IngestEvent[] {
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const project = o.project ?? 'p';
  const base = o.nowMs - 3_600_000;
  let n = 0;
  const id = (): string => `${o.seed}-${n++}`;
  const events: IngestEvent[] = [];
  const aliases: IngestEvent[] = [];
  for (let u = 0; u < o.units; u++) {
    const anonymous = rand() < 0.4;
    const identity = anonymous
      ? { user_id: null, anonymous_id: `anon-${o.seed}-${u}` }
      : { user_id: `user-${o.seed}-${u}`, anonymous_id: null };
    const t0 = base + Math.floor(rand() * 3_000_000);
    const envelope = (ts: number) => ({
      event_id: id(),
      project,
      received_at: ts,
      timestamp: ts,
      message_id: `m-${id()}`,
      ...identity,
      // Derived from u, not drawn: the draws (and so the rest of each seed's scenario) stay as they were.
      context: { plan: u % 2 === 0 ? 'free' : 'pro' },
    });
    const variation = pick(['control', 'treatment']);
    const decision = `d-${u}`;
    const exposures = 1 + Math.floor(rand() * 2);
    for (let i = 0; i < exposures; i++) {
      const conflicting = i > 0 && rand() < 0.25;
      events.push({
        ...envelope(t0 + i * 1000),
        body: {
          kind: 'exposure',
          experiment: 'e1',
          variation: conflicting ? (variation === 'control' ? 'treatment' : 'control') : variation,
          decision_id: decision,
          properties: { country: COUNTRIES[(u + i) % COUNTRIES.length]!, seats: i + 1 },
        },
      });
    }
    if (rand() < 0.3) {
      events.push({
        ...envelope(t0 + 500),
        body: {
          kind: 'exposure',
          experiment: 'e2',
          variation: pick(['a', 'b']),
          decision_id: null,
          properties: {},
        },
      });
    }
    const tracks = Math.floor(rand() * 5);
    for (let i = 0; i < tracks; i++) {
      // Some before the first exposure (never counted), most after.
      const ts = t0 + Math.floor((rand() - 0.25) * 20_000);
      const track: IngestEvent = {
        ...envelope(ts),
        body: {
          kind: 'track',
          event: pick(['purchase', 'signup']),
          value: rand() < 0.5 ? Math.round(rand() * 10_000) / 100 : null,
          decision_id: rand() < 0.5 ? decision : null,
          sample: pick([1, 1, 0.5]),
        },
      };
      events.push(track);
      // A retried copy: same message_id, new event_id; the first accepted wins.
      if (rand() < 0.1) events.push({ ...track, event_id: id() });
    }
    if (anonymous && rand() < 0.6) {
      const user = `user-${o.seed}-${u}-known`;
      aliases.push({
        event_id: id(),
        project,
        received_at: t0 + 30_000,
        timestamp: t0 + 30_000,
        message_id: `m-${id()}`,
        user_id: user,
        anonymous_id: identity.anonymous_id,
        body: { kind: 'alias' },
        context: {},
      });
      // The user converts too, on their own id.
      events.push({
        ...envelope(t0 + 40_000),
        user_id: user,
        anonymous_id: null,
        body: { kind: 'track', event: 'purchase', value: 5, decision_id: null, sample: 1 },
      });
    }
  }
  // Shuffle (retries stay after their originals: first accepted wins), then aliases spread over
  // the second half, after most of the conversions they re-attribute.
  const shuffled = shuffleKeepingRetryOrder(events, rand);
  for (const alias of aliases) {
    const at = Math.floor(shuffled.length / 2 + rand() * (shuffled.length / 2));
    shuffled.splice(at, 0, alias);
  }
  return shuffled;
}

function shuffleKeepingRetryOrder(events: IngestEvent[], rand: () => number): IngestEvent[] {
  const order = events.map((e, i) => ({ e, key: rand(), i }));
  order.sort((a, b) => a.key - b.key);
  // Restore the relative order of events sharing a message_id.
  const byMessage = new Map<string, number[]>();
  order.forEach((x, pos) => {
    const list = byMessage.get(x.e.message_id ?? `none-${pos}`) ?? [];
    list.push(pos);
    byMessage.set(x.e.message_id ?? `none-${pos}`, list);
  });
  const out = order.map((x) => x.e);
  for (const positions of byMessage.values()) {
    if (positions.length < 2) continue;
    const originals = positions.map((p) => order[p]!).sort((a, b) => a.i - b.i);
    positions.forEach((p, k) => (out[p] = originals[k]!.e));
  }
  return out;
}
