import { describe, expect, it } from 'vitest';
import { evictUnit } from '../../../../../services/processor/src/domain/attribution/retention.ts';
import { unitStage } from '../../../../../services/processor/src/domain/attribution/unit-stage.ts';
import {
  emptyUnitState,
  type UnitState,
} from '../../../../../services/processor/src/domain/attribution/unit-state.ts';
import type { UnitEvent } from '../../../../../services/processor/src/domain/unit-event.ts';
import type { UnitMessage } from '../../../../../services/processor/src/domain/unit-message.ts';
import {
  attributedRow,
  exposure,
  exposureRow,
  minus,
  plus,
  track,
} from '../../../../helpers/processor/builders.ts';

const event = (e: UnitEvent): UnitMessage => ({ type: 'event', project: 'p', unit: 'u', event: e, via: [] });

function fold(events: UnitEvent[], state: UnitState = emptyUnitState()) {
  let emits: ReturnType<typeof unitStage>['emits'] = [];
  for (const e of events) {
    const result = unitStage(state, event(e), 'cumulative');
    state = result.state;
    emits = result.emits;
  }
  return { state, emits };
}

describe('evictUnit', () => {
  const old = track('t-old', 1500);
  const edge = track('t-edge', 2000);
  const fresh = track('t-fresh', 5000);
  const { state } = fold([exposure('x1', 1000), old, edge, fresh]);

  it('drops tracks older than now − retention and reports how many', () => {
    const result = evictUnit(state, 10_000, 8000);
    expect(result.evicted).toBe(1);
    expect(result.state.kind === 'live' && result.state.content.tracks.map((t) => t.event_id)).toEqual([
      't-edge',
      't-fresh',
    ]);
  });

  it('keeps the exposure summary, so assignment and first exposure stay exact', () => {
    const after = evictUnit(state, 100_000, 0).state;
    expect(after.kind === 'live' && after.content.exposures).toEqual(
      state.kind === 'live' && state.content.exposures,
    );
  });

  it('returns the same state object when nothing is old enough', () => {
    const result = evictUnit(state, 1000, 0);
    expect(result).toEqual({ state, evicted: 0 });
    expect(result.state).toBe(state);
  });

  it('leaves a merged unit alone', () => {
    const merged: UnitState = { kind: 'merged', mergedInto: 'v' };
    expect(evictUnit(merged, 100_000, 0)).toEqual({ state: merged, evicted: 0 });
  });

  it("neither retracts nor re-asserts an evicted track's rows when the assignment later changes", () => {
    const evicted = evictUnit(state, 10_000, 8000).state;
    const { emits } = fold([exposure('x2', 3000, 'B')], evicted);
    expect(emits, 'only the kept tracks and the exposure row are corrected').toEqual([
      minus(attributedRow(edge)),
      minus(attributedRow(fresh)),
      minus(exposureRow(1000)),
      plus(exposureRow(1000, { multiple_exposure: true })),
    ]);
  });

  it('does not re-emit evicted rows when an earlier exposure moves the first exposure', () => {
    const evicted = evictUnit(state, 10_000, 8000).state;
    const { emits } = fold([exposure('x0', 500)], evicted);
    expect(emits).toEqual([minus(exposureRow(1000)), plus(exposureRow(500))]);
  });
});
