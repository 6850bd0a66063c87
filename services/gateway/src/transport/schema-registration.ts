/**
 * Registers the ingest schema at start-up and keeps the result. Until the registry has answered, the
 * gateway is not ready (ingest answers 503); a registry that is down is retried in the background
 * with capped exponential backoff. Once registered, the schema id and the synchronous encoder are
 * cached for the life of the process, so a later registry outage does not touch ingestion.
 */
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { RegisteredAvro } from '../../../../shared/registry/schema-registry.ts';
import { backoffDelayMs, fullDelay } from '../../../../shared/retry/capped-backoff.ts';
import { ConfluentBatchEncoder } from './confluent-encoder.ts';
import type { BatchEncoder } from './confluent-encoder.ts';

/** The part of AvroSchemaRegistry this needs (a fake in tests). */
export interface SchemaRegistrar {
  register(subject: string, schema: Record<string, unknown>): Promise<RegisteredAvro>;
  ping(timeoutMs?: number): Promise<boolean>;
}

export type RegistrationState =
  | { readonly status: 'registered'; readonly subject: string; readonly id: number }
  | {
      readonly status: 'pending';
      readonly subject: string;
      readonly attempts: number;
      readonly lastError: string | null;
    };

export interface SchemaRegistrationOptions {
  registrar: SchemaRegistrar;
  /** TopicNameStrategy: `<ingest topic>-value`. */
  subject: string;
  schema: Record<string, unknown>;
  logger: Logger;
  /** First retry delay, ms (doubles up to maxBackoffMs). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** See the file comment. */
export class SchemaRegistration {
  private registered: RegisteredAvro | undefined;
  private batchEncoder: BatchEncoder | undefined;
  private attempts = 0;
  private lastError: string | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: ((r: RegisteredAvro) => void)[] = [];

  constructor(private readonly opts: SchemaRegistrationOptions) {}

  /** Starts registering in the background; returns at once. */
  start(): void {
    void this.attempt();
  }

  /** The registered schema, or undefined while registration is pending. */
  current(): RegisteredAvro | undefined {
    return this.registered;
  }

  /** The batch encoder of the registered schema (built once), or undefined while pending. */
  encoder(): BatchEncoder | undefined {
    return this.batchEncoder;
  }

  /** Resolves once the schema is registered (start-up waits and tests). */
  whenRegistered(): Promise<RegisteredAvro> {
    if (this.registered) return Promise.resolve(this.registered);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  state(): RegistrationState {
    const subject = this.opts.subject;
    return this.registered
      ? { status: 'registered', subject, id: this.registered.id }
      : { status: 'pending', subject, attempts: this.attempts, lastError: this.lastError };
  }

  /** Whether the registry answers now (readyz reports it; ingestion does not depend on it once registered). */
  registryReachable(timeoutMs = 1_000): Promise<boolean> {
    return this.opts.registrar.ping(timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.registered) return;
    this.attempts++;
    try {
      const registered = await this.opts.registrar.register(this.opts.subject, this.opts.schema);
      this.batchEncoder = new ConfluentBatchEncoder(registered.type, registered.id);
      this.registered = registered;
      this.lastError = null;
      this.opts.logger.info(
        { subject: this.opts.subject, schemaId: registered.id, attempts: this.attempts },
        'ingest schema registered',
      );
      for (const resolve of this.waiters.splice(0)) resolve(registered);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      const delay = backoffDelayMs(
        this.attempts,
        { initialMs: this.opts.initialBackoffMs ?? 250, maxMs: this.opts.maxBackoffMs ?? 10_000 },
        fullDelay,
      );
      this.opts.logger.warn(
        { subject: this.opts.subject, attempts: this.attempts, retryInMs: delay, err: this.lastError },
        'schema registry unavailable; ingestion waits for the schema id',
      );
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.attempt(), delay);
      this.timer.unref();
    }
  }
}
