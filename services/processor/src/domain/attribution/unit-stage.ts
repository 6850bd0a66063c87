import type { SignedRow } from '../output-rows.ts';
import type { EventMessage, MergeInMessage, MergeMessage, UnitMessage } from '../unit-message.ts';
import { isNoCovariates, NO_COVARIATES, type CovariateLookback } from './covariate-lookback.ts';
import { deriveRows, NO_ROWS } from './derive-rows.ts';
import { diffRows } from './row-diff.ts';
import {
  contentOf,
  emptyUnitState,
  isEmptyContent,
  unionContent,
  type AttributionMode,
  type LiveUnit,
  type UnitContent,
  type UnitState,
} from './unit-state.ts';

/** What the unit stage counts (each value is how many times it happened in one step). */
export type UnitCounter = 'tracks_replayed' | 'forwarded' | 'merged' | 'merge_ignored' | 'alias_cycle_broken';

/** The result of one unit-stage step. */
export interface UnitStepResult {
  state: UnitState;
  /** Changelog rows for the output topics, keyed by the message's unit. */
  emits: SignedRow[];
  /** Messages for other units (repartition topic, key `unitKey(message)`). */
  forwards: UnitMessage[];
  counters: Partial<Record<UnitCounter, number>>;
}

/**
 * Stage 2, keyed by canonical unit `<project>/<unit>` (`message.project`, `message.unit`).
 *
 * Invariant: the rows a unit has emitted sum to `deriveRows` of its current content (nothing for
 * a merged unit), because every step emits exactly the diff between the derivation before and
 * after it. Rows carry their unit, so units never cancel each other's rows: summing the sign per
 * row over all units gives 0 or 1, and the truth once every message has been processed,
 * whatever the interleaving (content only grows by set union, and merged units pass on what
 * reaches them).
 *
 * - `event`: added to the content (a replayed event_id is a no-op) and the diff emitted; at a
 *   merged unit it was in flight when the alias landed, so it is forwarded to `mergedInto`.
 * - `merge` (unit into `into`): retracts every row the unit asserts, hands its content to `into`
 *   in a `merge-in`, and becomes merged. A second merge (only a replay can send one, as the
 *   first alias wins) is ignored.
 * - `merge-in`: union of the content and the diff emitted; forwarded when merged.
 *
 * Chained aliases (x→u, then u→v) resolve transitively here (x's events end in v), where
 * semantics.md resolves one step (x's events stay in u): a known, deliberate divergence.
 * An alias cycle (x→u, u→x) cannot loop: a merged unit that would forward a message back to a
 * unit it already passed through keeps it and becomes live again. Every message then settles,
 * nothing is lost or counted twice, but which unit ends up with the events of a cycle depends
 * on arrival order.
 *
 * `mode` is the project's current attribution mode and `lookback` its CUPED covariate lookback per
 * event name (none by default). Cost: O(events × experiments) of the unit.
 */
export function unitStage(
  state: UnitState,
  message: UnitMessage,
  mode: AttributionMode,
  lookback: CovariateLookback = NO_COVARIATES,
): UnitStepResult {
  const settings = { mode, lookback };
  switch (message.type) {
    case 'event':
      return deliver(state, message, contentOf(message.event), settings);
    case 'merge-in':
      return deliver(state, message, message.content, settings);
    case 'merge':
      return merge(state, message);
  }
}

/** The project settings rows are derived with. */
interface Derivation {
  mode: AttributionMode;
  lookback: CovariateLookback;
}

function deliver(
  state: UnitState,
  message: EventMessage | MergeInMessage,
  content: UnitContent,
  settings: Derivation,
): UnitStepResult {
  if (state.kind === 'live') return absorb(state, message, content, settings, {});
  const via = [...message.via, message.unit];
  if (via.includes(state.mergedInto)) {
    return absorb(emptyUnitState(settings.mode), message, content, settings, { alias_cycle_broken: 1 });
  }
  return {
    state,
    emits: [],
    forwards: [{ ...message, unit: state.mergedInto, via }],
    counters: { forwarded: 1 },
  };
}

function absorb(
  state: LiveUnit,
  message: UnitMessage,
  more: UnitContent,
  settings: Derivation,
  counters: Partial<Record<UnitCounter, number>>,
): UnitStepResult {
  const { mode, lookback } = settings;
  const { content, replayedTracks } = unionContent(state.content, more);
  // "Before" is derived from the stored content, mode and lookback, i.e. exactly what is asserted now
  // (evicted tracks are already gone from it, so they are neither retracted nor re-asserted).
  const emits = diffRows(
    deriveRows(message, state.content, state.mode, state.covariates),
    deriveRows(message, content, mode, lookback),
  );
  return {
    state: isNoCovariates(lookback)
      ? { kind: 'live', mode, content }
      : { kind: 'live', mode, covariates: lookback, content },
    emits,
    forwards: [],
    counters: replayedTracks > 0 ? { ...counters, tracks_replayed: replayedTracks } : counters,
  };
}

function merge(state: UnitState, message: MergeMessage): UnitStepResult {
  if (state.kind === 'merged' || message.into === message.unit) {
    return { state, emits: [], forwards: [], counters: { merge_ignored: 1 } };
  }
  const { project, unit, into } = message;
  const forwards: UnitMessage[] = isEmptyContent(state.content)
    ? []
    : [{ type: 'merge-in', project, unit: into, content: state.content, via: [unit] }];
  return {
    state: { kind: 'merged', mergedInto: into },
    emits: diffRows(deriveRows(message, state.content, state.mode, state.covariates), NO_ROWS),
    forwards,
    counters: { merged: 1 },
  };
}
