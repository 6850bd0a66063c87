import { isbot } from 'isbot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { analysisSettingsSchema, checkAnalysisReferences } from '../../../shared/projects/metric-catalog.ts';
import {
  OTHER_VALUE,
  exposureDimensionValue,
  exposuresByUnit,
  referenceDimensionBreakdown,
  referenceMetricStats,
} from '../reference/metric-reference.ts';
import {
  aliasMap,
  canonical,
  dedupByMessageId,
  referenceExperiments,
  referenceResults,
} from '../reference/semantics-reference.ts';
import type { AcceptedEvent } from '../reference/semantics-reference.ts';
import { resultsDifferences } from '../reference/results-difference.ts';
import {
  BOT_USER_AGENTS,
  SCENARIO_FEATURES,
  expectedAccepted,
  expectedVerdictCounts,
  generateScenario,
  resolveTimestamp,
} from './scenario-generator.ts';
import type { ExpectedOutcome, RawEvent, Scenario } from './scenario-generator.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const DAY = 86_400_000;
const small = (seed: number): Scenario => generateScenario({ seed, now: NOW, users: 60 });

/** Every (event, expected verdict) pair of a scenario. */
function pairs(s: Scenario): { raw: RawEvent; outcome: ExpectedOutcome; project: string }[] {
  return s.requests.flatMap((r, i) =>
    r.batch.map((raw, j) => ({ raw, project: r.project, outcome: s.outcomes[i]?.[j] as ExpectedOutcome })),
  );
}

describe('reproducibility', () => {
  it('gives identical output for the same seed', () => {
    expect(JSON.stringify(small(11)), 'same JSON').toBe(JSON.stringify(small(11)));
  });

  it('gives different output for different seeds', () => {
    expect(JSON.stringify(small(11)), 'seed 11 vs 12').not.toBe(JSON.stringify(small(12)));
  });
});

describe('shape', () => {
  const s = small(1);

  it('has one outcome per event and requests for every project', () => {
    s.requests.forEach((r, i) =>
      expect(s.outcomes[i]?.length, `outcomes of request ${i}`).toBe(r.batch.length),
    );
    expect(new Set(s.requests.map((r) => r.project)), 'projects').toEqual(new Set(['e2e-p1', 'e2e-p2']));
    expect(Math.max(...s.requests.map((r) => r.batch.length)), 'batch size').toBeLessThanOrEqual(100);
  });

  it('describes two projects of two experiments, one cumulative and one decision', () => {
    expect(
      s.projects.map((p) => [p.id, p.attribution, p.experiments.length]),
      'projects',
    ).toEqual([
      ['e2e-p1', 'cumulative', 2],
      ['e2e-p2', 'decision', 2],
    ]);
    expect(
      s.projects[0]?.experiments.map((e) => e.variations.length),
      'arms',
    ).toEqual([2, 3]);
    expect(s.settings['e2e-p2'], 'settings').toEqual({
      attribution: 'decision',
      expectedSplit: {
        exp_1: { control: 1, treatment: 1 },
        exp_2: { control: 2, treatment_a: 1, treatment_b: 1 },
      },
    });
  });

  it('gives every project the catalogue, the dimensions and one metric set, valid for the project catalog', () => {
    for (const p of s.projects) {
      const parsed = z.object(analysisSettingsSchema).parse({
        dimensions: p.dimensions,
        metrics: p.metrics,
        experiments: p.metricSets,
      });
      expect(parsed.metrics, `${p.id}: parsing changes nothing`).toEqual(p.metrics);
      expect(checkAnalysisReferences(parsed), `${p.id}: references`).toEqual([]);
      expect(p.dimensions, `${p.id} dimensions`).toEqual(['country', 'platform']);
      expect(Object.keys(p.metricSets), `${p.id} metric sets`).toEqual(['exp_1']);
      const types = p.metrics.map((m) => `${m.type}${m.cap ? ' capped' : ''}${m.window ? ' windowed' : ''}`);
      expect(types, `${p.id} metric kinds`).toEqual(
        expect.arrayContaining(['conversion windowed', 'mean capped', 'count', 'ratio']),
      );
    }
  });

  it('interleaves the projects rather than sending one after the other', () => {
    const switches = s.requests.filter((r, i) => i > 0 && r.project !== s.requests[i - 1]?.project).length;
    expect(switches, 'project switches between consecutive requests').toBeGreaterThan(2);
  });
});

describe('injected features', () => {
  for (const seed of [1, 2, 3]) {
    it(`puts every feature in the scenario of seed ${seed}`, () => {
      const { features } = small(seed);
      const missing = SCENARIO_FEATURES.filter((f) => features[f] === 0);
      expect(missing, 'features that never occurred').toEqual([]);
    });
  }

  it('really re-sends whole batches and single events unchanged', () => {
    const s = small(1);
    const bodies = s.requests.map((r) => JSON.stringify(r));
    const repeatedBatches = bodies.filter((b, i) => bodies.indexOf(b) !== i).length;
    expect(repeatedBatches, 'batches sent twice').toBeGreaterThan(0);
    const seen = new Map<string, string>();
    let resent = 0;
    for (const { raw, project } of pairs(s)) {
      if (raw.message_id === undefined) continue;
      const key = `${project}/${raw.message_id}`;
      if (seen.has(key)) resent++;
      else seen.set(key, JSON.stringify(raw));
    }
    expect(resent, 'events sent twice with one message_id').toBeGreaterThan(repeatedBatches);
  });

  it('mixes unix-ms numbers, UTC and offset ISO strings that resolve to the same instants', () => {
    const stamps = pairs(small(1)).map((p) => p.raw.timestamp);
    expect(
      stamps.some((t) => typeof t === 'number'),
      'numbers',
    ).toBe(true);
    expect(
      stamps.some((t) => typeof t === 'string' && t.endsWith('Z')),
      'UTC strings',
    ).toBe(true);
    expect(
      stamps.some((t) => typeof t === 'string' && /[+-]\d\d:\d\d$/.test(t)),
      'offsets',
    ).toBe(true);
    expect(resolveTimestamp('2026-11-22T14:30:00.250+02:00'), 'offset').toBe(
      Date.parse('2026-11-22T12:30:00.250Z'),
    );
  });

  it('uses user agents that isbot classifies as intended', () => {
    for (const ua of BOT_USER_AGENTS) expect(isbot(ua), ua).toBe(true);
    const human = pairs(small(1)).filter((p) => p.outcome.outcome !== 'dropped' && p.raw.context?.user_agent);
    expect(human.length, 'events with a human user agent').toBeGreaterThan(0);
    for (const { raw } of human) expect(isbot(raw.context?.user_agent), raw.context?.user_agent).toBe(false);
  });
});

// A deliberately simple reading of the semantics page's validation rules, independent of the gateway.
const EVENT_NAME = /^[a-z][a-z0-9_]{0,127}$/;
const EMAIL = /[^\s@]@[^\s@]+\.[a-z]{2,}/i;

function breaks(raw: RawEvent, code: string): boolean {
  const ts = raw.timestamp === undefined ? NOW : resolveTimestamp(raw.timestamp);
  switch (code) {
    case 'pii_email':
      return EMAIL.test(JSON.stringify(raw));
    case 'invalid_sample':
      return raw.sample !== undefined && raw.sample < 0.01;
    case 'invalid_event_name':
      return raw.event !== undefined && !raw.event.startsWith('$') && !EVENT_NAME.test(raw.event);
    case 'reserved_event_name':
      return raw.event?.startsWith('$') === true;
    case 'invalid_type':
      return typeof raw.value === 'string';
    case 'timestamp_too_old':
      return ts < NOW - 30 * DAY;
    case 'timestamp_in_future':
      return ts > NOW + 5 * 60_000;
    case 'missing_identity':
      return raw.user_id === undefined && raw.anonymous_id === undefined;
    case 'nested_property':
      return Object.values(raw.properties ?? {}).some((v) => typeof v === 'object' && v !== null);
    case 'missing_field':
      return raw.type === 'exposure' && (raw.experiment === undefined || raw.variation === undefined);
    case 'invalid_kind':
      return !['exposure', 'track', 'alias'].includes(raw.type ?? '');
    default:
      return false;
  }
}

function followsAllRules(raw: RawEvent): string[] {
  const broken = ['pii_email', 'invalid_sample', 'invalid_event_name', 'reserved_event_name', 'invalid_type']
    .concat(['timestamp_too_old', 'timestamp_in_future', 'nested_property', 'missing_field', 'invalid_kind'])
    .filter((code) => breaks(raw, code));
  if (raw.type !== 'alias' && breaks(raw, 'missing_identity')) broken.push('missing_identity');
  if (raw.type === 'track' && raw.event === undefined) broken.push('no event name');
  if (raw.timestamp === undefined) broken.push('no timestamp (would be the receive time)');
  return broken;
}

describe('expected verdicts', () => {
  const s = small(2);

  it('marks only rule-abiding human events as accepted', () => {
    for (const { raw, outcome } of pairs(s)) {
      if (outcome.outcome !== 'accepted') continue;
      expect(followsAllRules(raw), JSON.stringify(raw)).toEqual([]);
      expect(raw.context?.user_agent === undefined || !isbot(raw.context.user_agent), 'no bot').toBe(true);
    }
  });

  it('marks an event rejected only when it breaks the rule named', () => {
    const rejected = pairs(s).filter((p) => p.outcome.outcome === 'rejected');
    expect(rejected.length, 'rejected events').toBeGreaterThan(10);
    for (const { raw, outcome } of rejected) {
      if (outcome.outcome !== 'rejected') continue;
      expect(breaks(raw, outcome.code), `${outcome.code}: ${JSON.stringify(raw)}`).toBe(true);
    }
  });

  it('drops exactly the events with a bot user agent', () => {
    for (const { raw, outcome } of pairs(s)) {
      const bot = raw.context?.user_agent !== undefined && isbot(raw.context.user_agent);
      expect(outcome.outcome === 'dropped', `${outcome.outcome}: ${JSON.stringify(raw)}`).toBe(bot);
    }
  });

  it('lists the accepted events in posting order with resolved timestamps', () => {
    const accepted = expectedAccepted(s);
    const counts = expectedVerdictCounts(s);
    expect(accepted.length, 'one per accepted verdict').toBe(counts['accepted']);
    expect(counts['dropped:bot'], 'bots').toBeGreaterThan(0);
    expect(counts['rejected:pii_email'], 'e-mails').toBeGreaterThan(0);
    const firstRaw = pairs(s).find((p) => p.outcome.outcome === 'accepted');
    expect(accepted[0]?.timestamp, 'first event resolved').toBe(
      resolveTimestamp(firstRaw?.raw.timestamp as number),
    );
    for (const e of accepted) {
      expect(
        e.timestamp >= NOW - 3 * DAY && e.timestamp <= NOW - 60_000,
        `in the history window: ${e.timestamp}`,
      ).toBe(true);
    }
  });
});

describe('truth is independent of acceptance order', () => {
  const s = small(3);
  const accepted = expectedAccepted(s);

  it('gives one content per message_id and one user per anonymous id', () => {
    const content = new Map<string, string>();
    const aliasOf = new Map<string, string>();
    for (const e of accepted) {
      if (e.message_id !== null && e.message_id !== undefined) {
        const key = `${e.project}/${e.message_id}`;
        const json = JSON.stringify(e);
        expect(content.get(key) ?? json, `message ${key}`).toBe(json);
        content.set(key, json);
      }
      if (e.kind === 'alias') {
        const key = `${e.project}/${e.anonymous_id}`;
        expect(aliasOf.get(key) ?? e.user_id, `alias of ${key}`).toBe(e.user_id);
        aliasOf.set(key, e.user_id as string);
      }
    }
  });

  it('gives the same reference results (to 1e-9) for reversed and interleaved acceptance orders', () => {
    const reversed = [...accepted].reverse();
    const interleaved = accepted.filter((_, i) => i % 2 === 1).concat(accepted.filter((_, i) => i % 2 === 0));
    for (const project of s.projects) {
      for (const experiment of project.experiments) {
        for (const metric of s.metrics) {
          const results = (events: AcceptedEvent[]) => {
            const outcome = referenceResults(events, s.settings, project.id, experiment.name, metric, {
              control: 'control',
            });
            if (!outcome.ok) throw new Error(outcome.error.message);
            return outcome.value;
          };
          const base = results(accepted);
          const what = `${project.id}/${experiment.name}/${metric}`;
          expect(resultsDifferences(results(reversed), base), `${what} reversed`).toEqual([]);
          expect(resultsDifferences(results(interleaved), base), `${what} interleaved`).toEqual([]);
        }
      }
    }
  });
});

describe('second edition: identity and dimensions', () => {
  const s = small(5);
  const accepted = expectedAccepted(s);

  it('chains some aliases (anon → device user → account) and never makes a cycle', () => {
    for (const project of s.projects) {
      const aliases = aliasMap(dedupByMessageId(accepted, project.id));
      const chains = [...aliases.keys()].filter((id) => aliases.has(aliases.get(id) as string));
      expect(chains.length, `${project.id}: ids two links from their unit`).toBeGreaterThan(0);
      for (const id of aliases.keys()) {
        const seen = new Set<string>();
        for (let at: string | undefined = id; at !== undefined; at = aliases.get(at)) {
          expect(seen.has(at), `${project.id}: cycle through ${at}`).toBe(false);
          seen.add(at);
        }
      }
    }
  });

  it('never gives a unit same-timestamp first exposures with different dimension values', () => {
    for (const project of s.projects) {
      const counted = dedupByMessageId(accepted, project.id);
      const aliases = aliasMap(counted);
      for (const experiment of project.experiments) {
        for (const [unit, exposures] of exposuresByUnit(counted, aliases, experiment.name)) {
          const first = Math.min(...exposures.map((e) => e.timestamp));
          const tied = exposures.filter((e) => e.timestamp === first);
          const values = new Set(
            tied.map((e) => project.dimensions.map((d) => exposureDimensionValue(e, d)).join('|')),
          );
          expect(values.size, `${project.id}/${experiment.name}/${unit}`).toBe(1);
        }
      }
    }
  });

  it('moves units across country values when aliases merge two devices', () => {
    let moved = 0;
    for (const project of s.projects) {
      const counted = dedupByMessageId(accepted, project.id);
      const aliases = aliasMap(counted);
      for (const experiment of project.experiments) {
        const merged = exposuresByUnit(counted, aliases, experiment.name);
        const unmerged = exposuresByUnit(counted, new Map(), experiment.name);
        const countryOf = (exposures: AcceptedEvent[]): string =>
          exposureDimensionValue(
            exposures.reduce((a, b) => (b.timestamp < a.timestamp ? b : a)),
            'country',
          );
        for (const [id, exposures] of unmerged) {
          const unit = merged.get(canonical(aliases, id)) as AcceptedEvent[];
          if (countryOf(exposures) !== countryOf(unit)) moved++;
        }
      }
    }
    expect(moved, 'ids whose own first exposure is in another country than their unit').toBeGreaterThan(0);
  });

  it('reads dimension values from properties and from context', () => {
    const exposures = accepted.filter((e) => e.kind === 'exposure');
    expect(
      exposures.filter((e) => e.properties?.['country'] !== undefined).length / exposures.length,
      'share with a country property',
    ).toBeGreaterThan(0.7);
    expect(
      exposures.some(
        (e) => e.properties?.['platform'] === undefined && e.context?.['platform'] !== undefined,
      ),
      'platform from context',
    ).toBe(true);
    expect(
      exposures.some((e) => e.properties?.['platform'] !== undefined),
      'platform in properties',
    ).toBe(true);
  });
});

describe('realism at scale', () => {
  const s = generateScenario({ seed: 2024, now: NOW, users: 1500 });
  const accepted = expectedAccepted(s);

  it('produces tens of thousands of events', () => {
    expect(accepted.length, 'accepted events').toBeGreaterThan(20_000);
  });

  it('has multiple-exposure units in every experiment', () => {
    for (const e of referenceExperiments(accepted, s.settings)) {
      expect(e.multipleExposureUnits, `${e.project}/${e.experiment}`).toBeGreaterThan(0);
    }
  });

  it('makes windows, caps and pooling decide figures of the catalogue metrics', () => {
    for (const project of s.projects) {
      const experiment = project.experiments[0]?.name as string;
      const byId = (id: string) =>
        project.metrics.find((m) => m.id === id) as (typeof project.metrics)[number];
      const total = (id: string, field: 'conversions' | 'sum') =>
        referenceMetricStats(
          accepted,
          s.settings,
          project.id,
          experiment,
          byId(id),
          project.metrics,
        ).variations.reduce((sum, v) => sum + v[field], 0);
      const what = `${project.id}/${experiment}`;
      // purchased_late: the first hour after exposure is not counted, nor are returns after 37 h.
      const unwindowed = { ...byId('purchased_late'), window: undefined };
      const allPurchasers = referenceMetricStats(
        accepted,
        s.settings,
        project.id,
        experiment,
        unwindowed,
        project.metrics,
      );
      expect(total('purchased_late', 'conversions'), `${what}: the window removes converters`).toBeLessThan(
        allPurchasers.variations.reduce((sum, v) => sum + v.conversions, 0),
      );
      expect(total('revenue_capped', 'sum'), `${what}: the absolute cap bites`).toBeLessThan(
        total('revenue', 'sum'),
      );
      expect(total('revenue_p90', 'sum'), `${what}: the p90 cap bites`).toBeLessThan(total('revenue', 'sum'));
      expect(total('app_errors', 'sum'), `${what}: errors`).toBeGreaterThan(0);
      expect(total('revenue_per_view', 'conversions'), `${what}: ratio numerator`).toBeGreaterThan(0);
      const countries = referenceDimensionBreakdown(accepted, s.settings, project.id, experiment, 'country');
      expect(
        countries.values.map((v) => v.value),
        `${what}: more than 20 countries, pooled`,
      ).toContain(OTHER_VALUE);
    }
  });

  it('has track events more than two days after a unit’s first exposure', () => {
    const firstExposure = new Map<string, number>();
    for (const e of accepted) {
      if (e.kind !== 'exposure') continue;
      const key = `${e.project}/${e.user_id ?? e.anonymous_id}`;
      firstExposure.set(key, Math.min(firstExposure.get(key) ?? Infinity, e.timestamp));
    }
    const late = accepted.filter((e) => {
      const first = firstExposure.get(`${e.project}/${e.user_id ?? e.anonymous_id}`);
      return e.kind === 'track' && first !== undefined && e.timestamp - first > 2 * DAY;
    });
    expect(late.length, 'tracks > 48 h after the same id’s first exposure').toBeGreaterThan(0);
  });

  it('shows the real effect: the effect arm converts on purchase more than control', () => {
    for (const project of s.projects) {
      for (const experiment of project.experiments) {
        const outcome = referenceResults(accepted, s.settings, project.id, experiment.name, 'purchase', {
          control: experiment.control,
        });
        if (!outcome.ok) throw new Error(outcome.error.message);
        const effect = outcome.value.variations.find((v) => v.variation === experiment.effectVariation);
        expect(effect?.lift ?? 0, `${project.id}/${experiment.name} lift`).toBeGreaterThan(0.1);
        expect(outcome.value.srm.p_value ?? 0, `${project.id}/${experiment.name} SRM p`).toBeGreaterThan(
          0.001,
        );
      }
    }
  });
});
