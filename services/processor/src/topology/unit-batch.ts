import type { KafkaMessage } from 'kafkajs';
import { NO_COVARIATES, type CovariateLookback } from '../domain/attribution/covariate-lookback.ts';
import { unitStage } from '../domain/attribution/unit-stage.ts';
import { emptyUnitState, type AttributionMode, type UnitState } from '../domain/attribution/unit-state.ts';
import { deserializeUnitMessage, serializeUnitMessage } from '../domain/unit-message-codec.ts';
import { unitKey } from '../domain/unit-message.ts';
import type { EvictFn, SweepOutput } from '../../../../shared/streams/stores/eviction-sweep.ts';
import { refreshLookback, unitRefOf } from '../domain/attribution/lookback-refresh.ts';
import { evictUnit } from '../domain/attribution/retention.ts';
import type { TransactionalStore } from '../../../../shared/streams/stores/transactional-store.ts';
import type { SignedRow } from '../domain/output-rows.ts';
import type { OutputEncoders } from '../transport/avro-codecs.ts';
import { BatchOutput } from '../../../../shared/streams/batch-output.ts';
import { decodedOf } from '../../../../shared/streams/decoded-values.ts';
import type { UnitMessage } from '../domain/unit-message.ts';

export interface UnitBatchDeps {
  encoders: OutputEncoders;
  /** The project's current attribution mode (PROJECTS_FILE; unknown projects: cumulative). */
  modeOf(project: string): AttributionMode;
  /** The project's CUPED lookback per event name (PROJECTS_FILE metrics with `cuped`); none when omitted. */
  covariatesOf?(project: string): CovariateLookback;
  topics: { units: string; exposures: string; attributed: string; covariates: string };
  onDropped?: (offset: string, reason: string) => void;
}

/**
 * Sub-topology 2 over one chunk of a repartition-topic partition: run the unit stage on each
 * message's unit state, queue the signed rows for the public topics (Avro, keyed
 * `<project>/<unit>`) and the forwards (merge-in, redirected events) back to the repartition
 * topic keyed by their unit. Counts corrections (sign −1 rows) per kind.
 */
export function processUnitBatch(
  store: TransactionalStore<UnitState>,
  records: readonly KafkaMessage[],
  deps: UnitBatchDeps,
): BatchOutput {
  const out = new BatchOutput();
  for (const record of records) {
    // Processed in place: the message object the identity or unit step encoded (no parse).
    const inPlace = decodedOf<UnitMessage>(record);
    const decoded =
      inPlace !== undefined
        ? { ok: true as const, value: inPlace }
        : record.value === null
          ? { ok: false as const, error: 'null value' }
          : deserializeUnitMessage(record.value.toString('utf8'));
    if (!decoded.ok) {
      out.count('undecodable_dropped');
      deps.onDropped?.(record.offset, decoded.error);
      continue;
    }
    const message = decoded.value;
    const key = unitKey(message);
    const mode = deps.modeOf(message.project);
    const lookback = deps.covariatesOf?.(message.project) ?? NO_COVARIATES;
    const result = unitStage(store.get(key) ?? emptyUnitState(mode), message, mode, lookback);
    store.set(key, result.state);
    out.countAll(result.counters);
    pushSignedRows(out, result.emits, deps);
    for (const forward of result.forwards) {
      out.pushWithDecoded(deps.topics.units, unitKey(forward), serializeUnitMessage(forward), forward);
    }
  }
  return out;
}

/**
 * Queues signed rows for their public topics (Avro, keyed `<project>/<unit>`) and counts them per kind and
 * sign; also used by the eviction sweep's re-derivations.
 */
export function pushSignedRows(
  out: SweepOutput,
  rows: readonly SignedRow[],
  deps: Pick<UnitBatchDeps, 'encoders' | 'topics'>,
): void {
  for (const row of rows) {
    const rowKey = `${row.record.project}/${row.record.unit}`;
    switch (row.kind) {
      case 'exposure':
        out.push(deps.topics.exposures, rowKey, deps.encoders.exposure(row.record));
        break;
      case 'attributed':
        out.push(deps.topics.attributed, rowKey, deps.encoders.attributed(row.record));
        break;
      case 'covariate':
        out.push(deps.topics.covariates, rowKey, deps.encoders.covariate(row.record));
        break;
    }
    out.count(row.record.sign === 1 ? `${row.kind}_asserted` : `${row.kind}_retracted`);
  }
}

/**
 * The unit store's sweep rule: retention (retention.ts), then the project's current CUPED lookback for units
 * that get no message (lookback-refresh.ts), its rows into the sweep's transaction.
 */
export function unitSweepRule(
  deps: Pick<UnitBatchDeps, 'encoders' | 'topics'> & {
    retentionMs: number;
    covariatesOf(project: string): CovariateLookback;
  },
): EvictFn<UnitState> {
  return (state, nowMs, key, out) => {
    const trimmed = evictUnit(state, nowMs, deps.retentionMs);
    const ref = unitRefOf(key);
    const refreshed = refreshLookback(ref, trimmed.state, deps.covariatesOf(ref.project));
    if (refreshed === null) return trimmed;
    pushSignedRows(out, refreshed.emits, deps);
    return { state: refreshed.state, evicted: trimmed.evicted, changed: true };
  };
}
