/**
 * Integration plumbing for the processor tests: topics under a random prefix, ingest records
 * produced with the real ingest-event schema, and the public output topics read back
 * read_committed and summed by sign, independently of the processor's own code.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer } from 'kafkajs';
import { readAvsc } from '../../../shared/registry/avro-schemas.ts';
import { AvroSchemaRegistry } from '../../../shared/registry/schema-registry.ts';
import { identityKeyOf, type IngestEvent } from '../../../services/processor/src/domain/ingest-event.ts';
import type {
  AttributedEventRow,
  CovariateEventRow,
  UnitExposureRow,
} from '../../../services/processor/src/domain/output-rows.ts';

export const BODY_BRANCH = {
  exposure: 'io.liftstream.ingest.Exposure',
  track: 'io.liftstream.ingest.Track',
  alias: 'io.liftstream.ingest.Alias',
} as const;

/** An ingest event in avsc's in-memory form of schemas/ingest-event.avsc. */
export function ingestValue(event: IngestEvent): Record<string, unknown> {
  const { body } = event;
  const branch =
    body.kind === 'exposure'
      ? {
          experiment: body.experiment,
          variation: body.variation,
          decision_id: body.decision_id,
          properties: body.properties,
        }
      : body.kind === 'track'
        ? {
            event: body.event,
            value: body.value,
            properties: {},
            decision_id: body.decision_id,
            sample: body.sample,
          }
        : {};
  return {
    event_id: event.event_id,
    project: event.project,
    received_at: event.received_at,
    timestamp: event.timestamp,
    message_id: event.message_id,
    user_id: event.user_id,
    anonymous_id: event.anonymous_id,
    body: { [BODY_BRANCH[body.kind]]: branch },
    context: event.context,
  };
}

export function testKafka(brokers: string, clientId = `test-${randomUUID()}`): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
}

/** A random topic prefix (`test-<uuid>.`), as the shared-broker rules require. */
export function randomPrefix(): string {
  return `test-${randomUUID()}.`;
}

/**
 * A PROJECTS_FILE in a temp dir: project `p` (cumulative) and `pd` (decision), both declaring
 * `dimensions` (default none).
 */
export function writeProjectsFile(
  dimensions: readonly string[] = [],
  /** Metric catalogue of project `p` (e.g. a metric with `cuped`). */
  metrics: readonly object[] = [],
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-projects-'));
  const file = path.join(dir, 'projects.json');
  const key = (n: number): string => n.toString(16).padStart(64, '0');
  fs.writeFileSync(
    file,
    JSON.stringify({
      projects: [
        {
          id: 'p',
          attribution: 'cumulative',
          keys: [{ role: 'write', sha256: key(1) }],
          dimensions,
          metrics,
        },
        { id: 'pd', attribution: 'decision', keys: [{ role: 'write', sha256: key(2) }], dimensions },
      ],
    }),
  );
  return file;
}

/** Produces ingest events (registered ingest schema, keyed by identity) in order. */
export class IngestProducer {
  private readonly producer;
  private encode: ((value: unknown) => Buffer) | null = null;

  constructor(
    kafka: Kafka,
    private readonly registry: AvroSchemaRegistry,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    const registered = await this.registry.register(`${this.topic}-value`, readAvsc('ingest-event'));
    this.encode = (v) => registered.encode(v);
  }

  async send(events: readonly IngestEvent[]): Promise<void> {
    const encode = this.encode!;
    for (let i = 0; i < events.length; i += 2000) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: events
          .slice(i, i + 2000)
          .map((e) => ({ key: identityKeyOf(e), value: encode(ingestValue(e)) })),
      });
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

export interface SummedRows {
  exposures: UnitExposureRow[];
  attributed: AttributedEventRow[];
  covariates: CovariateEventRow[];
  /**
   * Row identities whose sign total left {0, 1}, now or after any record read so far (must stay
   * empty). Checked after every record, not only at the end: the processor diffs each unit's rows
   * against what it asserted before, so every prefix of a topic is itself a valid changelog, and a
   * double assertion later retracted (total 2, then 1) is a fault the final totals would hide.
   */
  violations: string[];
  records: number;
}

/**
 * Reads `<prefix>exposures` and `<prefix>attributed` read_committed from the beginning and keeps
 * the sign total of every row (identity: every field but sign). Decodes with the writer schema
 * fetched by id over the registry's REST API, not through the processor's code.
 */
export class OutputReader {
  private readonly consumer: Consumer;
  private readonly totals = new Map<
    string,
    { kind: 'exposure' | 'attributed' | 'covariate'; row: object; total: number }
  >();
  private readonly types = new Map<number, avro.Type>();
  /** Every time a row's total left {0, 1}, in reading order. */
  private readonly seenViolations: string[] = [];
  records = 0;

  constructor(
    kafka: Kafka,
    private readonly registryUrl: string,
    private readonly prefix: string,
  ) {
    this.consumer = kafka.consumer({
      groupId: `test-reader-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [`${this.prefix}exposures`, `${this.prefix}attributed`, `${this.prefix}covariates`],
      fromBeginning: true,
    });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        const kind = batch.topic.endsWith('exposures')
          ? 'exposure'
          : batch.topic.endsWith('covariates')
            ? 'covariate'
            : 'attributed';
        for (const message of batch.messages) {
          const value = await this.decode(message.value!);
          const { sign, ...row } = value as { sign: number } & Record<string, unknown>;
          const id = `${kind}:${canonicalJson(row)}`;
          const entry = this.totals.get(id) ?? { kind, row, total: 0 };
          entry.total += sign;
          this.totals.set(id, entry);
          this.records++;
          if (entry.total !== 0 && entry.total !== 1)
            this.seenViolations.push(`${id} summed to ${entry.total} after record ${this.records}`);
        }
      },
    });
  }

  snapshot(): SummedRows {
    const out: SummedRows = {
      exposures: [],
      attributed: [],
      covariates: [],
      violations: [...this.seenViolations],
      records: this.records,
    };
    for (const [, { kind, row, total }] of this.totals) {
      if (total !== 1) continue;
      if (kind === 'exposure') out.exposures.push(row as UnitExposureRow);
      else if (kind === 'covariate') out.covariates.push(row as CovariateEventRow);
      else out.attributed.push(row as AttributedEventRow);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async decode(buffer: Buffer): Promise<unknown> {
    const id = buffer.readUInt32BE(1);
    let type = this.types.get(id);
    if (type === undefined) {
      const res = await fetch(`${this.registryUrl}/schemas/ids/${id}`);
      const { schema } = (await res.json()) as { schema: string };
      type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
      this.types.set(id, type);
    }
    return type.fromBuffer(buffer.subarray(5));
  }
}

/** Rows in a canonical order, for comparing row sets with toEqual. */
export function sortRows<T extends object>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
}

export function canonicalJson(value: object): string {
  return JSON.stringify(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(
  check: () => boolean,
  timeoutMs: number,
  intervalMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return check();
}

/**
 * Resolves as `promise` does, or rejects after `ms` naming `what`: a step of a test that hangs
 * (a rebalance, a disconnect) then fails as that step instead of as the whole test's timeout.
 */
export function step<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Deletes every topic under `prefix` (best effort). */
export async function deleteTopics(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
}

export { AvroSchemaRegistry };
