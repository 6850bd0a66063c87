/**
 * Decoding fetched records into rows: Confluent-framed Avro through the schema registry. Records that
 * cannot be decoded are skipped, logged and counted (`invalid`), never retried forever; a registry that
 * does not answer is retried.
 */
import { causeChain } from '../../../shared/errors.ts';
import { backoffDelayMs } from '../../../shared/retry/capped-backoff.ts';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
import type { FetchedRecord, SinkContext } from './sink-context.ts';
import { message } from './sink-context.ts';
import { ROW_READERS } from './sink-rows.ts';
import type { RowRead, SinkRow, SinkTable } from './sink-rows.ts';

export class RecordDecoder {
  /** Schema ids the registry does not know (404): their records are invalid, not retried. */
  private readonly unknownSchemaIds = new Set<number>();
  private readonly knownSchemaIds = new Set<number>();

  constructor(private readonly ctx: SinkContext) {}

  /**
   * Decodes a chunk into rows. Writer schemas are fetched first (the registry client caches them): a
   * registry that does not answer is retried with backoff, an id it does not know makes its records invalid.
   * Returns null when the sink stopped meanwhile.
   */
  async decode(
    table: SinkTable,
    partition: number,
    chunk: readonly FetchedRecord[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<SinkRow[] | null> {
    const ids = new Set<number>();
    for (const r of chunk) {
      const id = schemaIdOf(r.value);
      if (id !== null && !this.knownSchemaIds.has(id) && !this.unknownSchemaIds.has(id)) ids.add(id);
    }
    for (const id of ids) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.ctx.deps.registry.forId(id);
          this.knownSchemaIds.add(id);
          break;
        } catch (err) {
          if (isNotFound(err)) {
            this.unknownSchemaIds.add(id);
            break;
          }
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
      const read = await this.read(r, partition, toRow);
      if (read.ok) rows.push(read.row);
      else this.invalid(table, partition, r.offset, read.reason);
    }
    return rows;
  }

  private async read(
    record: FetchedRecord,
    partition: number,
    toRow: (value: unknown, at: { partition: number; offset: number }) => RowRead<SinkRow>,
  ): Promise<RowRead<SinkRow>> {
    const id = schemaIdOf(record.value);
    if (record.value === null || id === null) return { ok: false, reason: 'not Confluent-framed Avro' };
    if (this.unknownSchemaIds.has(id))
      return { ok: false, reason: `schema id ${id} unknown to the registry` };
    let value: unknown;
    try {
      value = await this.ctx.deps.registry.decode(record.value);
    } catch (err) {
      return { ok: false, reason: `Avro decode failed: ${message(err)}` };
    }
    return toRow(value, { partition, offset: record.offset });
  }

  private invalid(table: SinkTable, partition: number, offset: number, reason: string): void {
    this.ctx.skipped.invalid += 1;
    this.ctx.metrics.recordsSkipped.inc({ table, reason: 'invalid' });
    this.ctx.noteError(new Error(`invalid record ${table}/${partition}@${offset}: ${reason}`));
    this.ctx.logger.warn({ table, partition, offset, reason }, 'invalid record skipped');
  }
}

function schemaIdOf(value: Buffer | null): number | null {
  if (value === null || value.length < 5 || value.readUInt8(0) !== 0) return null;
  return value.readUInt32BE(1);
}

/** A registry 404 (unknown schema id), wherever it sits in the cause chain. */
function isNotFound(error: unknown): boolean {
  return causeChain(error).some((e) => (e as { status?: unknown }).status === 404);
}
