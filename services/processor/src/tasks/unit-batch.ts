import type { KafkaMessage } from 'kafkajs';
import { NO_COVARIATES, type CovariateLookback } from '../domain/attribution/covariate-lookback.ts';
import { unitStage } from '../domain/attribution/unit-stage.ts';
import { emptyUnitState, type AttributionMode, type UnitState } from '../domain/attribution/unit-state.ts';
import { deserializeUnitMessage, serializeUnitMessage } from '../domain/unit-message-codec.ts';
import { unitKey } from '../domain/unit-message.ts';
import type { TransactionalStore } from '../state/transactional-store.ts';
import type { OutputEncoders } from '../transport/avro-codecs.ts';
import { BatchOutput } from './batch-output.ts';

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
    const decoded =
      record.value === null
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
    for (const row of result.emits) {
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
    for (const forward of result.forwards) {
      out.push(deps.topics.units, unitKey(forward), serializeUnitMessage(forward));
    }
  }
  return out;
}
