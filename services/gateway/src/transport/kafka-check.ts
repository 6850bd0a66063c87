/**
 * Kafka readiness for /readyz: the producers can connect and the broker serves the ingest topic's
 * metadata, each within a bound. It also (re)connects lanes whose producer was discarded after a
 * failure, so an idle gateway becomes ready again once Kafka is back, without needing traffic.
 * Results are shared for `cacheMs` so frequent probes do not pile up requests on a sick broker.
 */
import type { Admin } from 'kafkajs';
import type { KafkaCheck } from '../http/ops-routes.ts';
import type { ProducerHealth } from './ingest-producer.ts';

export interface KafkaCheckOptions {
  producer: { connect(): Promise<void>; health(): ProducerHealth };
  admin: Pick<Admin, 'fetchTopicMetadata'>;
  topic: string;
  timeoutMs?: number;
  cacheMs?: number;
}

export function createKafkaCheck(opts: KafkaCheckOptions): () => Promise<KafkaCheck> {
  const timeoutMs = opts.timeoutMs ?? 1_500;
  const cacheMs = opts.cacheMs ?? 1_000;
  let cached: { at: number; result: Promise<KafkaCheck> } | undefined;

  const run = async (): Promise<KafkaCheck> => {
    try {
      await within(opts.producer.connect(), timeoutMs, 'connecting the producer');
      await within(
        opts.admin.fetchTopicMetadata({ topics: [opts.topic] }),
        timeoutMs,
        'fetching topic metadata',
      );
    } catch (err) {
      return { up: false, detail: err instanceof Error ? err.message : String(err) };
    }
    const { lastError } = opts.producer.health();
    return lastError === null ? { up: true } : { up: true, detail: `latest produce failed: ${lastError}` };
  };

  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > cacheMs) cached = { at: now, result: run() };
    return cached.result;
  };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from Kafka within ${ms} ms ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
