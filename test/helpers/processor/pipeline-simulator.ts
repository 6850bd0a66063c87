/**
 * Runs the two processor stages in memory with the routing the Kafka plumbing will do: one FIFO
 * queue per key (ingest events per raw identity key, in acceptance order; unit messages per unit
 * key, in the order they were produced), and an arbitrary interleaving across keys chosen by
 * `pick`. Optionally the unit queues deliver in any order, which the unit stage must also
 * survive (it is what sends in-flight events to merged units). Every state goes through its
 * changelog codec after each step, as it would through a compacted topic. Emitted signed rows
 * are summed per row.
 */
import { evictUnit } from '../../../services/processor/src/domain/attribution/retention.ts';
import {
  deserializeUnitState,
  serializeUnitState,
} from '../../../services/processor/src/domain/attribution/unit-state-codec.ts';
import { unitStage } from '../../../services/processor/src/domain/attribution/unit-stage.ts';
import {
  refreshLookback,
  unitRefOf,
} from '../../../services/processor/src/domain/attribution/lookback-refresh.ts';
import {
  emptyUnitState,
  type AttributionMode,
  type UnitState,
} from '../../../services/processor/src/domain/attribution/unit-state.ts';
import {
  deserializeIdentityState,
  serializeIdentityState,
} from '../../../services/processor/src/domain/identity/identity-state-codec.ts';
import { emptyIdentityState } from '../../../services/processor/src/domain/identity/identity-state.ts';
import { identityStage } from '../../../services/processor/src/domain/identity/identity-stage.ts';
import { identityKeyOf, type IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import type {
  AttributedEventRow,
  CovariateEventRow,
  SignedRow,
  UnitExposureRow,
} from '../../../services/processor/src/domain/output-rows.ts';
import { unitKey, type UnitMessage } from '../../../services/processor/src/domain/unit-message.ts';
import type { Decoded } from '../../../services/processor/src/domain/versioned-json.ts';

export interface SimulationOptions {
  /** The attribution mode of each project (default cumulative). */
  modeOf?: (project: string) => AttributionMode;
  /** The declared dimensions of each project (default none). */
  dimensionsOf?: (project: string) => readonly string[];
  /** The CUPED lookback (ms) per event name of each project (default none). */
  lookbackOf?: (project: string) => Readonly<Record<string, number>>;
  /**
   * The scheduler's choice at each step: `choice % ready` picks the ready queue (in order of
   * creation); with `delivery: 'any-order'`, `floor(choice / ready)` also picks the message in a
   * unit queue. Default 0: breadth-first, everything in order.
   */
  pick?: (step: number) => number;
  /** Unit queues: FIFO per key (what Kafka gives) or any order. Ingest queues are always FIFO. */
  delivery?: 'per-key-fifo' | 'any-order';
  /** Steps after which the run is declared non-terminating (alias loops). */
  maxSteps?: number;
  /**
   * A catalogue change: from step `afterStep` on, messages use `lookbackOf` instead of the option's, and right
   * after that step every stored unit is refreshed under it, as the eviction sweep does (lookback-refresh.ts);
   * when the run ends first, the change happens after the last step.
   */
  lookbackChange?: { afterStep: number; lookbackOf: (project: string) => Readonly<Record<string, number>> };
  /** After step `afterStep`, evict from every unit the tracks with timestamp < `beforeMs`. */
  evictions?: ReadonlyArray<{ afterStep: number; beforeMs: number }>;
  /**
   * Tasks per partition (PROCESSOR_TASKS=per-partition): the partition of a key (`<project>/<id>`).
   * A unit message whose unit lands on its sender's partition (the identity key's, or the forwarding
   * unit's) is processed by the unit stage in the same step, up to `IN_PLACE_HOPS` deep, as
   * shared/streams/stream-task.ts does; the rest is queued as usual.
   */
  partitionOf?: (key: string) => number;
}

/** In-place hops per step (shared/streams/stream-task.ts MAX_LOCAL_HOPS). */
const IN_PLACE_HOPS = 4;

export interface SimulationResult {
  /** Rows whose sign sums to 1 after the run. */
  rows: { exposures: UnitExposureRow[]; attributed: AttributedEventRow[]; covariates: CovariateEventRow[] };
  /** Every emitted row with the step that emitted it. */
  emitted: Array<{ step: number; row: SignedRow }>;
  /** Rows whose running sign total left {0, 1}, and emissions of already evicted events. */
  violations: string[];
  /** Stage counters summed over the run. */
  counters: Record<string, number>;
  unitStates: Map<string, UnitState>;
  /** event_ids evicted from unit states. */
  evicted: Set<string>;
}

type Item = { stage: 'identity'; event: IngestEvent } | { stage: 'unit'; message: UnitMessage };

/** Processes `ingest` (acceptance order) through both stages until every queue is empty. */
export function simulate(ingest: readonly IngestEvent[], options: SimulationOptions = {}): SimulationResult {
  const modeOf = options.modeOf ?? (() => 'cumulative' as const);
  const dimensionsOf = options.dimensionsOf ?? (() => []);
  let lookbackOf = options.lookbackOf ?? (() => ({}));
  const pick = options.pick ?? (() => 0);
  const queues = new Map<string, Item[]>();
  const enqueue = (key: string, item: Item): void => {
    const queue = queues.get(key) ?? [];
    queue.push(item);
    queues.set(key, queue);
  };
  for (const event of ingest)
    enqueue(`identity:${identityKeyOf(event) ?? '(none)'}`, { stage: 'identity', event });

  const identityStates = new Map<string, string>();
  const unitStates = new Map<string, string>();
  const totals = new Map<string, { row: SignedRow; total: number }>();
  const emitted: SimulationResult['emitted'] = [];
  const violations: string[] = [];
  const counters: Record<string, number> = {};
  const evicted = new Set<string>();
  const count = (more: Partial<Record<string, number>>): void => {
    for (const [name, n] of Object.entries(more)) counters[name] = (counters[name] ?? 0) + (n ?? 0);
  };
  const sum = (step: number, rows: readonly SignedRow[]): void => {
    for (const row of rows) {
      emitted.push({ step, row });
      if (row.kind !== 'exposure' && evicted.has(row.record.event_id)) {
        violations.push(`step ${step}: emitted ${describe(row)} after its event was evicted`);
      }
      const id = identityOf(row);
      const entry = totals.get(id) ?? { row, total: 0 };
      entry.total += row.record.sign;
      totals.set(id, entry);
    }
    // Each step leaves every row's total in {0, 1}, not just the end of the run.
    for (const row of rows) {
      const total = totals.get(identityOf(row))!.total;
      if (total !== 0 && total !== 1) violations.push(`step ${step}: ${describe(row)} sums to ${total}`);
    }
  };
  let changed = false;
  const changeLookback = (step: number): void => {
    const change = options.lookbackChange;
    if (change === undefined || changed) return;
    changed = true;
    lookbackOf = change.lookbackOf;
    for (const [key, json] of unitStates) {
      const ref = unitRefOf(key.slice('unit:'.length));
      const refreshed = refreshLookback(ref, read(json, deserializeUnitState)!, lookbackOf(ref.project));
      if (refreshed === null) continue;
      unitStates.set(key, serializeUnitState(refreshed.state));
      sum(step, refreshed.emits);
    }
  };

  for (let step = 0; ; step++) {
    const ready = [...queues.entries()].filter(([, q]) => q.length > 0);
    if (ready.length === 0) break;
    if (step >= (options.maxSteps ?? 100_000)) throw new Error(`no quiescence after ${step} steps`);
    const choice = pick(step);
    const [key, queue] = ready[choice % ready.length]!;
    const anyOrder = options.delivery === 'any-order' && key.startsWith('unit:');
    const index = anyOrder ? Math.floor(choice / ready.length) % queue.length : 0;
    const item = queue.splice(index, 1)[0]!;
    const runUnit = (message: UnitMessage): UnitMessage[] => {
      const unit = `unit:${unitKey(message)}`;
      const state = read(unitStates.get(unit), deserializeUnitState) ?? emptyUnitState();
      const result = unitStage(state, message, modeOf(message.project), lookbackOf(message.project));
      unitStates.set(unit, serializeUnitState(result.state));
      count(result.counters);
      sum(step, result.emits);
      return result.forwards;
    };
    // `from` sent `message`, `hop` deep in this step: processed in place, or queued.
    const route = (from: string, message: UnitMessage, hop: number): void => {
      const to = unitKey(message);
      const partitionOf = options.partitionOf;
      if (partitionOf !== undefined && hop <= IN_PLACE_HOPS && partitionOf(from) === partitionOf(to)) {
        count({ in_place: 1 });
        for (const forward of runUnit(message)) route(to, forward, hop + 1);
      } else {
        enqueue(`unit:${to}`, { stage: 'unit', message });
      }
    };
    if (item.stage === 'identity') {
      const state = read(identityStates.get(key), deserializeIdentityState) ?? emptyIdentityState();
      const result = identityStage(state, item.event, dimensionsOf(item.event.project));
      identityStates.set(key, serializeIdentityState(result.state));
      count(result.counters);
      const from = key.slice('identity:'.length);
      for (const message of result.outputs) route(from, message, 1);
    } else {
      const from = key.slice('unit:'.length);
      for (const forward of runUnit(item.message)) route(from, forward, 1);
    }
    for (const eviction of options.evictions ?? []) {
      if (eviction.afterStep !== step) continue;
      for (const [unit, json] of unitStates) {
        const state = read(json, deserializeUnitState)!;
        const before = state.kind === 'live' ? state.content.tracks.map((t) => t.event_id) : [];
        const after = evictUnit(state, eviction.beforeMs, 0).state;
        const kept = new Set(after.kind === 'live' ? after.content.tracks.map((t) => t.event_id) : []);
        for (const id of before) if (!kept.has(id)) evicted.add(id);
        unitStates.set(unit, serializeUnitState(after));
      }
    }
    if (options.lookbackChange?.afterStep === step) changeLookback(step);
  }
  changeLookback(Number.POSITIVE_INFINITY);

  const rows: SimulationResult['rows'] = { exposures: [], attributed: [], covariates: [] };
  for (const { row, total } of totals.values()) {
    if (total !== 1) continue;
    if (row.kind === 'exposure') rows.exposures.push(withoutSign(row.record));
    else if (row.kind === 'attributed') rows.attributed.push(withoutSign(row.record));
    else rows.covariates.push(withoutSign(row.record));
  }
  const states = new Map([...unitStates].map(([k, json]) => [k, read(json, deserializeUnitState)!]));
  return { rows, emitted, violations, counters, unitStates: states, evicted };
}

function withoutSign<T extends { sign: number }>(record: T): Omit<T, 'sign'> {
  const { sign: _sign, ...fields } = record;
  return fields;
}

/** Rows in a canonical order, for comparing row sets with toEqual. */
export function sortRows<T extends object>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
}

// The test's own row identity (not the processor's): every field but the sign, keys sorted.
function identityOf(row: SignedRow): string {
  const { sign: _sign, ...fields } = row.record;
  return `${row.kind}:${canonicalJson(fields)}`;
}

function canonicalJson(value: object): string {
  return JSON.stringify(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function describe(row: SignedRow): string {
  return `${row.kind} ${JSON.stringify(row.record)}`;
}

function read<T>(json: string | undefined, decode: (json: string) => Decoded<T>): T | undefined {
  if (json === undefined) return undefined;
  const decoded = decode(json);
  if (!decoded.ok) throw new Error(decoded.error);
  return decoded.value;
}
