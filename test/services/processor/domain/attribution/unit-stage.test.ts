import { describe, expect, it } from 'vitest';
import {
  unitStage,
  type UnitStepResult,
} from '../../../../../services/processor/src/domain/attribution/unit-stage.ts';
import {
  emptyUnitState,
  type AttributionMode,
  type UnitContent,
  type UnitState,
} from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { SignedRow } from '../../../../../services/processor/src/domain/output-rows.ts';
import type { UnitEvent } from '../../../../../services/processor/src/domain/unit-event.ts';
import type { UnitMessage } from '../../../../../services/processor/src/domain/unit-message.ts';
import {
  attributedRow,
  covariateRow,
  exposure,
  exposureRow,
  minus,
  plus,
  track,
} from '../../../../helpers/processor/builders.ts';

const event = (e: UnitEvent, unit = 'u'): UnitMessage => ({
  type: 'event',
  project: 'p',
  unit,
  event: e,
  via: [],
});
const mergeIn = (content: Partial<UnitContent>, via = ['a'], unit = 'u'): UnitMessage => ({
  type: 'merge-in',
  project: 'p',
  unit,
  content: { exposures: [], tracks: [], ...content },
  via,
});
const merge = (unit: string, into: string): UnitMessage => ({ type: 'merge', project: 'p', unit, into });

/** Applies messages in order; returns the last step's result and the final state. */
function run(
  messages: UnitMessage[],
  mode: AttributionMode = 'cumulative',
  state: UnitState = emptyUnitState(),
) {
  let last: UnitStepResult | undefined;
  for (const message of messages) {
    last = unitStage(state, message, mode);
    state = last.state;
  }
  return { last: last!, state };
}

/** The content a unit holds after these events (built through the stage itself). */
function contentAfter(events: UnitEvent[], mode: AttributionMode = 'cumulative'): UnitContent {
  const { state } = run(
    events.map((e) => event(e)),
    mode,
  );
  if (state.kind !== 'live') throw new Error('expected a live unit');
  return state.content;
}

const asSet = (rows: SignedRow[]): SignedRow[] =>
  [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('unitStage: events', () => {
  const t = track('t1', 1100);

  it('asserts the exposure row of a first exposure', () => {
    expect(run([event(exposure('x1', 1000))]).last.emits).toEqual([plus(exposureRow(1000))]);
  });

  it('attributes a track after the exposure, once per experiment', () => {
    const { last } = run([
      event(exposure('x1', 1000, 'A', { experiment: 'e1' })),
      event(exposure('x2', 1000, 'B', { experiment: 'e2' })),
      event(t),
    ]);
    expect(asSet(last.emits)).toEqual(
      asSet([
        plus(attributedRow(t, { experiment: 'e1' })),
        plus(attributedRow(t, { experiment: 'e2', variation: 'B' })),
      ]),
    );
  });

  it('attributes a conversion that arrived before its exposure when the exposure arrives', () => {
    const first = run([event(t)]);
    expect(first.last.emits, 'nothing to attribute yet').toEqual([]);
    const { last } = run([event(exposure('x1', 1000))], 'cumulative', first.state);
    expect(asSet(last.emits)).toEqual(asSet([plus(exposureRow(1000)), plus(attributedRow(t))]));
  });

  it('counts a track at exactly the first exposure time, not one a millisecond before', () => {
    const atFirst = track('t-at', 1000);
    const before = track('t-before', 999);
    const { last } = run([event(atFirst), event(before), event(exposure('x1', 1000))]);
    expect(asSet(last.emits)).toEqual(asSet([plus(exposureRow(1000)), plus(attributedRow(atFirst))]));
  });

  it('moves first_exposure_at when an earlier exposure arrives late, attributing what it now covers', () => {
    const early = track('t-early', 900);
    const late = track('t-late', 1100);
    const { last } = run([
      event(exposure('x1', 1000)),
      event(early),
      event(late),
      event(exposure('x0', 800)),
    ]);
    expect(last.emits, 'the late track row is unchanged, so not re-emitted').toEqual([
      minus(exposureRow(1000)),
      plus(attributedRow(early)),
      plus(exposureRow(800)),
    ]);
  });

  it('keeps the dimension values of the first exposure: a later one with other values emits nothing', () => {
    const { last } = run([
      event(exposure('x1', 1000, 'A', { dimensions: { country: 'DE' } })),
      event(exposure('x2', 2000, 'A', { dimensions: { country: 'FR' } })),
    ]);
    expect(last.emits).toEqual([]);
  });

  it('retracts the row with its old dimension values when an earlier exposure with others arrives late', () => {
    const de = { dimensions: { country: 'DE' } };
    const fr = { dimensions: { country: 'FR' } };
    const { last } = run([event(exposure('x1', 1000, 'A', de)), event(exposure('x0', 800, 'A', fr))]);
    expect(last.emits).toEqual([minus(exposureRow(1000, de)), plus(exposureRow(800, fr))]);
  });

  it('breaks a tie of instant and variation by the values, the same in either arrival order', () => {
    const de = exposure('x1', 1000, 'A', { dimensions: { country: 'DE' } });
    const fr = exposure('x2', 1000, 'A', { dimensions: { country: 'FR' } });
    const deFirst = run([event(de), event(fr)]);
    const frFirst = run([event(fr), event(de)]);
    expect(deFirst.last.emits, 'DE wins, nothing to change').toEqual([]);
    expect(frFirst.last.emits, 'DE wins: FR retracted').toEqual([
      minus(exposureRow(1000, { dimensions: { country: 'FR' } })),
      plus(exposureRow(1000, { dimensions: { country: 'DE' } })),
    ]);
    expect(frFirst.state, 'same state either way').toEqual(deFirst.state);
  });

  it('emits nothing for a later exposure to the same variation', () => {
    expect(run([event(exposure('x1', 1000)), event(t), event(exposure('x2', 2000))]).last.emits).toEqual([]);
  });

  it("retracts a unit's attributed rows when a conflicting variation makes it multiple-exposure", () => {
    const { last } = run([event(exposure('x1', 1000, 'A')), event(t), event(exposure('x2', 1200, 'B'))]);
    expect(last.emits).toEqual([
      minus(attributedRow(t)),
      minus(exposureRow(1000)),
      plus(exposureRow(1000, { multiple_exposure: true })),
    ]);
  });

  it('makes different variations at the same first instant multiple-exposure, smallest variation named', () => {
    const { last } = run([event(exposure('x1', 1000, 'B')), event(exposure('x2', 1000, 'A'))]);
    expect(last.emits).toEqual([
      minus(exposureRow(1000, { variation: 'B' })),
      plus(exposureRow(1000, { variation: 'A', multiple_exposure: true })),
    ]);
  });

  it('ignores a replayed track event_id', () => {
    const { state: before } = run([event(exposure('x1', 1000)), event(t)]);
    const { last, state } = run([event(t)], 'cumulative', before);
    expect(last.emits, 'no rows').toEqual([]);
    expect(last.counters).toEqual({ tracks_replayed: 1 });
    expect(state, 'state unchanged').toEqual(before);
  });

  it('ignores a replayed exposure', () => {
    const { state: before } = run([event(exposure('x1', 1000, 'A', { decision: 'd' })), event(t)]);
    const { last, state } = run([event(exposure('x1', 1000, 'A', { decision: 'd' }))], 'cumulative', before);
    expect(last.emits).toEqual([]);
    expect(state).toEqual(before);
  });

  it('puts the sampling weight and a missing value (null, adds 0 but counts) in the row', () => {
    const sampled = track('t-s', 1100, { weight: 4, value: null });
    const { last } = run([event(exposure('x1', 1000)), event(sampled)]);
    expect(last.emits).toEqual([plus(attributedRow(sampled))]);
    expect(last.emits[0]!.record).toMatchObject({ weight: 4, value: null });
  });
});

describe('unitStage: decision mode', () => {
  const exposures = [
    event(exposure('x1', 1000, 'A', { experiment: 'e1', decision: 'd1' })),
    event(exposure('x2', 1000, 'B', { experiment: 'e2', decision: 'd2' })),
  ];

  it.each<[string, string | null, string[]]>([
    ['a track with a decision_id counts only for the experiments of that decision', 'd1', ['e1']],
    ['a track without decision_id falls back to the cumulative rule', null, ['e1', 'e2']],
    ['a track naming an unknown decision counts nowhere', 'd9', []],
  ])('%s', (_name, decision, experiments) => {
    const t = track('t1', 1100, { decision });
    const { last } = run([...exposures, event(t)], 'decision');
    expect(last.emits.map((r) => r.record.experiment)).toEqual(experiments);
  });

  it('counts a decision carried by a later exposure, for tracks at or after the first exposure', () => {
    const t = track('t1', 1500, { decision: 'd-late' });
    const { last } = run(
      [
        event(exposure('x1', 1000, 'A', { decision: 'd-early' })),
        event(exposure('x2', 2000, 'A', { decision: 'd-late' })),
        event(t),
      ],
      'decision',
    );
    expect(last.emits).toEqual([plus(attributedRow(t))]);
  });

  it('retracts exactly what was asserted when the project switches mode', () => {
    const t = track('t1', 1100, { decision: 'd1' });
    const { state } = run([...exposures, event(t)], 'cumulative');
    const { last } = run([event(track('t2', 900))], 'decision', state);
    expect(last.emits, 'the e2 row asserted under cumulative goes').toEqual([
      minus(attributedRow(t, { experiment: 'e2', variation: 'B' })),
    ]);
    expect(last.state).toMatchObject({ kind: 'live', mode: 'decision' });
  });
});

describe('unitStage: merge', () => {
  it('retracts every row, hands the content to the target and becomes merged', () => {
    const t = track('t1', 1100);
    const { state } = run([event(exposure('x1', 1000), 'a'), event(t, 'a')]);
    const content = state.kind === 'live' ? state.content : undefined;
    const result = unitStage(state, merge('a', 'u'), 'cumulative');
    expect(result.emits).toEqual([
      minus(attributedRow(t, { unit: 'a' })),
      minus(exposureRow(1000, { unit: 'a' })),
    ]);
    expect(result.forwards).toEqual([{ type: 'merge-in', project: 'p', unit: 'u', content, via: ['a'] }]);
    expect(result.state).toEqual({ kind: 'merged', mergedInto: 'u' });
    expect(result.counters).toEqual({ merged: 1 });
  });

  it('forwards nothing when the merged unit had no events', () => {
    const result = unitStage(emptyUnitState(), merge('a', 'u'), 'cumulative');
    expect(result.forwards).toEqual([]);
    expect(result.state).toEqual({ kind: 'merged', mergedInto: 'u' });
  });

  it('ignores a second merge of a merged unit', () => {
    const state: UnitState = { kind: 'merged', mergedInto: 'u' };
    expect(unitStage(state, merge('a', 'v'), 'cumulative')).toEqual({
      state,
      emits: [],
      forwards: [],
      counters: { merge_ignored: 1 },
    });
  });

  it('ignores a merge of a unit into itself', () => {
    const { state } = run([event(exposure('x1', 1000))]);
    const result = unitStage(state, merge('u', 'u'), 'cumulative');
    expect(result.state).toBe(state);
    expect(result.counters).toEqual({ merge_ignored: 1 });
  });
});

describe('unitStage: merge-in', () => {
  it('attributes conversions made before the alias once they reach the exposed user', () => {
    const t = track('t1', 1100);
    const { state } = run([event(exposure('x1', 1000))]);
    const { last } = run([mergeIn(contentAfter([t]))], 'cumulative', state);
    expect(last.emits).toEqual([plus(attributedRow(t))]);
  });

  it('moves the first exposure when the merged unit was exposed earlier', () => {
    const t = track('t1', 1500);
    const { state } = run([event(exposure('x1', 2000)), event(t)]);
    const { last } = run([mergeIn(contentAfter([exposure('x0', 1000)]))], 'cumulative', state);
    expect(last.emits).toEqual([minus(exposureRow(2000)), plus(attributedRow(t)), plus(exposureRow(1000))]);
  });

  it('moves the dimension values with the first exposure when the merged unit was exposed earlier', () => {
    const { state } = run([event(exposure('x1', 2000, 'A', { dimensions: { country: 'DE' } }))]);
    const earlier = contentAfter([exposure('x0', 1000, 'A', { dimensions: { country: 'FR', plan: 'pro' } })]);
    const { last } = run([mergeIn(earlier)], 'cumulative', state);
    expect(last.emits).toEqual([
      minus(exposureRow(2000, { dimensions: { country: 'DE' } })),
      plus(exposureRow(1000, { dimensions: { country: 'FR', plan: 'pro' } })),
    ]);
  });

  it('makes the user multiple-exposure and retracts its rows when the merged unit saw another variation', () => {
    const t = track('t1', 1500);
    const { state } = run([event(exposure('x1', 1000, 'A')), event(t)]);
    const { last } = run([mergeIn(contentAfter([exposure('x2', 1200, 'B')]))], 'cumulative', state);
    expect(last.emits).toEqual([
      minus(attributedRow(t)),
      minus(exposureRow(1000)),
      plus(exposureRow(1000, { multiple_exposure: true })),
    ]);
  });

  it('is idempotent when replayed', () => {
    const content = contentAfter([exposure('x1', 1000), track('t1', 1100)]);
    const { state } = run([mergeIn(content)]);
    const { last } = run([mergeIn(content)], 'cumulative', state);
    expect(last.emits).toEqual([]);
    expect(last.state).toEqual(state);
  });
});

describe('unitStage: merged unit', () => {
  const merged: UnitState = { kind: 'merged', mergedInto: 'u' };

  it('forwards an event that was in flight when the alias landed', () => {
    const e = exposure('x1', 1000);
    expect(unitStage(merged, event(e, 'a'), 'cumulative')).toEqual({
      state: merged,
      emits: [],
      forwards: [{ type: 'event', project: 'p', unit: 'u', event: e, via: ['a'] }],
      counters: { forwarded: 1 },
    });
  });

  it('forwards a merge-in along a chain of aliases (resolved transitively)', () => {
    const content = contentAfter([exposure('x1', 1000)]);
    const result = unitStage(merged, mergeIn(content, ['x'], 'a'), 'cumulative');
    expect(result.forwards).toEqual([
      { type: 'merge-in', project: 'p', unit: 'u', content, via: ['x', 'a'] },
    ]);
  });

  it('keeps a message that would go back to a unit it came from (alias cycle) and becomes live', () => {
    const content = contentAfter([exposure('x1', 1000)]);
    const result = unitStage(merged, mergeIn(content, ['u'], 'a'), 'cumulative');
    expect(result.forwards, 'no loop').toEqual([]);
    expect(result.emits).toEqual([plus(exposureRow(1000, { unit: 'a' }))]);
    expect(result.state).toEqual({ kind: 'live', mode: 'cumulative', content });
    expect(result.counters).toEqual({ alias_cycle_broken: 1 });
  });
});

describe('unitStage with a CUPED lookback (buy: 1000 ms)', () => {
  const lookback = { buy: 1000 };
  const step = (state: UnitState, message: UnitMessage) => unitStage(state, message, 'cumulative', lookback);

  it('emits a covariate row for a track before the first exposure, whichever arrives first', () => {
    const t = track('t', 1500, { value: 4 });
    const first = step(emptyUnitState(), event(t));
    expect(first.emits, 'no exposure yet: nothing to feed').toEqual([]);
    const second = step(first.state, event(exposure('x', 2000)));
    expect(second.emits).toEqual([plus(covariateRow(t, 2000)), plus(exposureRow(2000))]);
    expect(second.state).toMatchObject({ kind: 'live', covariates: lookback });
  });

  it('a late earlier exposure retracts the covariate rows and re-derives them against the new first exposure', () => {
    const t1 = track('t1', 1500);
    const t2 = track('t2', 2500);
    let state = step(emptyUnitState(), event(exposure('x2', 3000))).state;
    state = step(state, event(t1)).state;
    state = step(state, event(t2)).state;
    const late = step(state, event(exposure('x1', 2000)));
    expect(
      late.emits,
      't1 was beyond the lookback of 3000 and is within that of 2000; t2 becomes attributed',
    ).toEqual([
      minus(covariateRow(t2, 3000)),
      minus(exposureRow(3000)),
      plus(attributedRow(t2)),
      plus(covariateRow(t1, 2000)),
      plus(exposureRow(2000)),
    ]);
  });

  it('a merge retracts the merged unit covariate rows; the surviving unit asserts them against its own exposure', () => {
    const t = track('t', 1500);
    let anon = step(emptyUnitState(), event(t, 'a')).state;
    anon = step(anon, event(exposure('xa', 1800), 'a')).state;
    const merged = step(anon, merge('a', 'u'));
    expect(merged.emits).toEqual([
      minus(covariateRow(t, 1800, { unit: 'a' })),
      minus(exposureRow(1800, { unit: 'a' })),
    ]);
    const known = step(emptyUnitState(), event(exposure('xu', 2200))).state;
    const [forward] = merged.forwards;
    const absorbed = step(known, forward!);
    expect(absorbed.emits).toEqual([
      minus(exposureRow(2200)),
      plus(covariateRow(t, 1800)),
      plus(exposureRow(1800)),
    ]);
  });

  it('retracts with the lookback the rows were asserted with when the catalogue changes', () => {
    const t = track('t', 1500);
    let state = step(emptyUnitState(), event(exposure('x', 2000))).state;
    state = step(state, event(t)).state;
    const without = unitStage(state, event(track('t2', 2500)), 'cumulative');
    expect(without.emits).toEqual([minus(covariateRow(t, 2000)), plus(attributedRow(track('t2', 2500)))]);
    expect(without.state).not.toHaveProperty('covariates');
  });
});
