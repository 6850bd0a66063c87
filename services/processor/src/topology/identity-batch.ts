import type { KafkaMessage } from 'kafkajs';
import { emptyIdentityState, type IdentityState } from '../domain/identity/identity-state.ts';
import { identityStage } from '../domain/identity/identity-stage.ts';
import { identityKeyOf } from '../domain/ingest-event.ts';
import { serializeUnitMessage } from '../domain/unit-message-codec.ts';
import { unitKey } from '../domain/unit-message.ts';
import type { TransactionalStore } from '../../../../shared/streams/stores/transactional-store.ts';
import type { ConfluentAvroReader } from '../transport/avro-codecs.ts';
import { readIngestRecord } from '../transport/ingest-record.ts';
import { BatchOutput } from '../../../../shared/streams/batch-output.ts';

export interface IdentityBatchDeps {
  reader: ConfluentAvroReader;
  /** The repartition topic (`<prefix>processor.units`). */
  unitsTopic: string;
  /**
   * The project's declared dimension names (PROJECTS_FILE; unknown projects: none), whose values
   * exposures carry to the unit stage.
   */
  dimensionsOf(project: string): readonly string[];
  /** Told about each record dropped as unreadable or invalid (dead-letter material). */
  onDropped?: (offset: string, reason: string) => void;
}

/**
 * Sub-topology 1 over one chunk of an ingest partition: decode each record, run the identity
 * stage on its key's state (in the store's batch overlay) and queue its unit messages for the
 * repartition topic, keyed `<project>/<unit>`. Undecodable or invalid records are dropped with
 * a reason and counted; they never stop the partition.
 */
export async function processIdentityBatch(
  store: TransactionalStore<IdentityState>,
  records: readonly KafkaMessage[],
  deps: IdentityBatchDeps,
): Promise<BatchOutput> {
  await deps.reader.prepare(records.map((r) => r.value));
  const out = new BatchOutput();
  for (const record of records) {
    const avro = deps.reader.read(record.value);
    const read = avro.ok ? readIngestRecord(avro.value) : { ok: false as const, reason: avro.reason };
    if (!read.ok) {
      out.count('undecodable_dropped');
      deps.onDropped?.(record.offset, read.reason);
      continue;
    }
    out.receivedAt.push(read.event.received_at);
    const key = identityKeyOf(read.event);
    if (key === null) {
      out.count('invalid_dropped');
      deps.onDropped?.(record.offset, 'no user_id or anonymous_id');
      continue;
    }
    if (record.key !== null && record.key.toString('utf8') !== key) out.count('misrouted');
    const state = store.get(key) ?? emptyIdentityState();
    const result = identityStage(state, read.event, deps.dimensionsOf(read.event.project));
    if (result.state !== state) store.set(key, result.state);
    out.countAll(result.counters);
    if (result.rejected !== null) deps.onDropped?.(record.offset, result.rejected);
    for (const message of result.outputs)
      out.pushWithDecoded(deps.unitsTopic, unitKey(message), serializeUnitMessage(message), message);
  }
  return out;
}
