/**
 * Start-up of the sink's consumer: wait for Kafka and the topics (with backoff), join the group
 * read_committed, and hand assignments and batches to their handlers. A consumer that crashes in a way
 * kafkajs does not restart (an error it does not class as retriable) is restarted here, with backoff:
 * the host stays up and the sink resumes from what ClickHouse holds.
 */
import type { Admin, Consumer } from 'kafkajs';
import { backoffDelayMs } from '../../../shared/retry/capped-backoff.ts';
import { startWithBackoff } from '../../../shared/retry/start-with-backoff.ts';
import { waitWithHeartbeat } from '../../../shared/retry/wait-with-heartbeat.ts';
import type { BatchWriter } from './batch-writer.ts';
import { fetchSettings } from './flush-decision.ts';
import type { PartitionAssignments } from './partition-assignment.ts';
import type { SinkContext } from './sink-context.ts';
import { message, Stopped } from './sink-context.ts';
import { SINK_TABLES } from './sink-rows.ts';

/** Crashes this long apart count as a new streak: the restart backoff starts again from its first step. */
const CRASH_STREAK_RESET_MS = 60_000;

export class SinkConsumer {
  /** The current start-up: the first, or a restart after a crash. */
  private startup: Promise<void> = Promise.resolve();
  private crashes = 0;
  private lastCrashAt = 0;

  constructor(
    private readonly ctx: SinkContext,
    private readonly assignments: PartitionAssignments,
    private readonly writer: BatchWriter,
  ) {}

  start(): void {
    this.startup = this.connectWithRetry();
  }

  /** Settles when the current start-up (or restart) has finished or given up (stop). */
  async settled(): Promise<void> {
    for (let seen: Promise<void> | null = null; seen !== this.startup;) {
      seen = this.startup;
      await seen.catch(() => undefined);
    }
  }

  /** Kafka down or topics missing at start: keep trying with backoff until it works or stop() is called. */
  private async connectWithRetry(): Promise<void> {
    const ctx = this.ctx;
    const started = await startWithBackoff({
      start: () => this.connect(),
      stopped: () => ctx.stopping,
      isStop: (err) => err instanceof Stopped,
      policy: ctx.config.retry,
      onFailure: async (err, attempt, retryInMs) => {
        ctx.noteError(err);
        await ctx.consumer?.disconnect().catch(() => undefined);
        await ctx.admin?.disconnect().catch(() => undefined);
        ctx.consumer = null;
        ctx.admin = null;
        ctx.logger.warn({ err: message(err), attempt, retryInMs }, 'sink start failed; retrying');
      },
    });
    if (!started) return;
    ctx.state = 'running';
    ctx.logger.info({ groupId: ctx.config.groupId, topics: ctx.topics }, 'sink consuming');
  }

  private async connect(): Promise<void> {
    const ctx = this.ctx;
    const { kafka } = ctx.deps;
    const admin = kafka.admin();
    ctx.admin = admin;
    await admin.connect();
    await this.waitForTopics(admin);
    const consumer = kafka.consumer({
      groupId: ctx.config.groupId,
      // read_committed: the processor writes these topics in transactions.
      readUncommitted: false,
      sessionTimeout: ctx.config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(ctx.config.sessionTimeoutMs / 10)),
      ...fetchSettings(ctx.flushPolicy, ctx.config.fetchMinBytes),
      allowAutoTopicCreation: false,
    });
    ctx.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
      this.assignments.onAssignment(payload.memberAssignment),
    );
    consumer.on(consumer.events.REBALANCING, () => {
      this.assignments.onRebalancing();
    });
    // Batches holding only transaction markers or aborted records never reach eachBatch: kafkajs resolves them.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0) return;
      const key = `${payload.topic}:${payload.partition}`;
      ctx.highWatermarks.set(key, Number(payload.highWatermark));
      ctx.consumed.set(key, Math.max(ctx.consumed.get(key) ?? -1, Number(payload.lastOffset)));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      ctx.noteError(payload.error);
      if (payload.restart) {
        ctx.logger.warn({ err: message(payload.error) }, 'consumer crashed; kafkajs restarts it');
      } else if (!ctx.stopping && ctx.consumer === consumer) {
        this.restartAfterCrash(consumer, payload.error);
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: SINK_TABLES.map((table) => ctx.topics[table]), fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: ctx.config.concurrency,
      eachBatch: (payload) => this.writer.handleBatch(payload),
    });
  }

  /**
   * kafkajs left the group and will not come back by itself: start a new consumer after a backoff that grows
   * with a streak of crashes (a batch that fails every time must not make a tight loop). Nothing was resolved
   * for the failed batch, and the new assignment re-reads what ClickHouse holds, so nothing is lost or
   * stored twice.
   */
  private restartAfterCrash(crashed: Consumer, error: unknown): void {
    const ctx = this.ctx;
    const now = Date.now();
    this.crashes = now - this.lastCrashAt > CRASH_STREAK_RESET_MS ? 1 : this.crashes + 1;
    this.lastCrashAt = now;
    const delay = backoffDelayMs(this.crashes, ctx.config.retry);
    ctx.state = 'starting';
    ctx.assignment.prepared = false;
    ctx.consumer = null;
    ctx.metrics.consumerRestarts.inc();
    ctx.logger.error(
      { err: message(error), crashes: this.crashes, restartInMs: delay },
      'consumer crashed and kafkajs will not restart it; the sink restarts it',
    );
    const previous = this.startup;
    this.startup = (async () => {
      await previous.catch(() => undefined);
      await crashed.disconnect().catch(() => undefined);
      await ctx.admin?.disconnect().catch(() => undefined);
      ctx.admin = null;
      if (
        !(await waitWithHeartbeat(
          delay,
          async () => undefined,
          () => !ctx.stopping,
          250,
        ))
      )
        return;
      await this.connectWithRetry();
    })();
  }

  /** The processor creates the topics; the sink waits for them rather than guessing their settings. */
  private async waitForTopics(admin: Admin): Promise<void> {
    const ctx = this.ctx;
    for (let attempt = 1; ; attempt++) {
      if (ctx.stopping) throw new Stopped();
      const existing = new Set(await admin.listTopics());
      const missing = Object.values(ctx.topics).filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      if (attempt === 1 || attempt % 30 === 0) {
        ctx.logger.info({ missing }, 'waiting for the processor to create the topics');
      }
      await waitWithHeartbeat(
        1_000,
        async () => undefined,
        () => !ctx.stopping,
        250,
      );
    }
  }
}
