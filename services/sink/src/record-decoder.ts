/**
 * Decoding fetched records into rows: Confluent-framed Avro through the schema registry. Records that
 * cannot be decoded are skipped, logged and counted (`invalid`), never retried forever; a registry that
 * does not answer is retried.
 */
import { ConfluentAvroReader } from '../../../shared/registry/confluent-avro-reader.ts';
import type { AvroRead } from '../../../shared/registry/confluent-avro-reader.ts';
import { backoffDelayMs } from '../../../shared/retry/capped-backoff.ts';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
import type { FetchedRecord, SinkContext } from './sink-context.ts';
import { message } from './sink-context.ts';
import { ROW_READERS } from './sink-rows.ts';
import type { RowRead, SinkRow, SinkTable } from './sink-rows.ts';

export class RecordDecoder {
  /**
   * The shared Confluent frame reader: writer schemas by id, cached; ids the registry does not know (404)
   * are remembered, and their records are invalid, not retried.
   */
  private readonly reader: ConfluentAvroReader;

  constructor(private readonly ctx: SinkContext) {
    this.reader = new ConfluentAvroReader(ctx.deps.registry);
  }

  /**
   * Decodes a chunk into rows. Writer schemas are fetched first (the reader caches them): a registry that
   * does not answer is retried with backoff, an id it does not know makes its records invalid.
   * Returns null when the sink stopped meanwhile.
   */
  async decode(
    table: SinkTable,
    partition: number,
    chunk: readonly FetchedRecord[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<SinkRow[] | null> {
    for (const id of this.reader.unloadedSchemaIds(chunk.map((r) => r.value))) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.reader.load(id);
          break;
        } catch (err) {
          this.ctx.noteError(err);
          const delay = backoffDelayMs(attempt, this.ctx.config.retry);
          this.ctx.logger.warn(
            { err: message(err), schemaId: id, retryInMs: delay },
            'schema registry failed; retrying',
          );
          if (!(await waitWithHeartbeat(delay, heartbeat, running))) return null;
        }
      }
    }
    const rows: SinkRow[] = [];
    const toRow = ROW_READERS[table];
    for (const r of chunk) {
      const avro = this.reader.read(r.value);
      const read: RowRead<SinkRow> = avro.ok
        ? toRow(avro.value, { partition, offset: r.offset })
        : { ok: false, reason: invalidReason(avro) };
      if (read.ok) rows.push(read.row);
      else this.invalid(table, partition, r.offset, read.reason);
    }
    return rows;
  }

  private invalid(table: SinkTable, partition: number, offset: number, reason: string): void {
    this.ctx.skipped.invalid += 1;
    this.ctx.metrics.recordsSkipped.inc({ table, reason: 'invalid' });
    this.ctx.noteError(new Error(`invalid record ${table}/${partition}@${offset}: ${reason}`));
    this.ctx.logger.warn({ table, partition, offset, reason }, 'invalid record skipped');
  }
}

/** The sink's wording of a record the shared reader could not read (logged and in status' lastError). */
function invalidReason(read: Extract<AvroRead, { ok: false }>): string {
  return read.problem === 'unknown-schema-id'
    ? `schema id ${read.schemaId} unknown to the registry`
    : read.reason;
}
