/**
 * Integration tests get real infrastructure from here, in this order of preference:
 * 1. KAFKA_BROKERS and SCHEMA_REGISTRY_URL set: use them as they are (CI services, a developer's stack).
 * 2. LIFTSTREAM_TESTCONTAINERS=1 and a Docker engine: Kafka, Apicurio and ClickHouse containers.
 * 3. Otherwise: the local broker and registry (no Docker), on test ports so a running local mode
 *    does not collide, with a fresh data dir removed afterwards.
 * ClickHouse is embedded chDB per test file unless CLICKHOUSE_URL is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDownloads } from '../../infra/local/fetch.ts';
import type { ManagedProcess } from '../../infra/local/java-process.ts';
import { startLocalKafka } from '../../infra/local/kafka-broker.ts';
import { localDir } from '../../infra/local/paths.ts';
import { startLocalRegistry } from '../../infra/local/schema-registry.ts';
import { startContainers } from './containers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    registryUrl: string;
    clickhouseUrl: string | undefined;
    /** Data dir of the broker when the harness started it locally. */
    kafkaDataDir: string | undefined;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  if (env['KAFKA_BROKERS'] && env['SCHEMA_REGISTRY_URL']) {
    project.provide('kafkaBrokers', env['KAFKA_BROKERS']);
    project.provide('registryUrl', env['SCHEMA_REGISTRY_URL']);
    project.provide('clickhouseUrl', env['CLICKHOUSE_URL']);
    project.provide('kafkaDataDir', undefined);
    console.log(
      `[infra] using KAFKA_BROKERS=${env['KAFKA_BROKERS']} SCHEMA_REGISTRY_URL=${env['SCHEMA_REGISTRY_URL']}`,
    );
    return async () => undefined;
  }

  if (env['LIFTSTREAM_TESTCONTAINERS'] === '1') {
    const stack = await startContainers();
    project.provide('kafkaBrokers', stack.kafkaBrokers);
    project.provide('registryUrl', stack.registryUrl);
    project.provide('clickhouseUrl', stack.clickhouseUrl);
    project.provide('kafkaDataDir', undefined);
    return stack.stop;
  }

  ensureDownloads();
  const dataDir = path.join(localDir, `test-infra-${process.pid}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  const started: ManagedProcess[] = [];
  let stopWatching = (): void => undefined;
  const stopAll = async (): Promise<void> => {
    stopWatching();
    await Promise.all(started.map((p) => p.stop(10_000)));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    let t = Date.now();
    const kafka = await startLocalKafka({
      dataDir: path.join(dataDir, 'kafka'),
      port: Number(env['TEST_KAFKA_PORT'] ?? 19092),
      controllerPort: Number(env['TEST_KAFKA_CONTROLLER_PORT'] ?? 19093),
    });
    started.push(kafka);
    console.log(`[infra] kafka ${kafka.brokers} (pid ${kafka.pid}) ready in ${Date.now() - t} ms`);
    t = Date.now();
    const registry = await startLocalRegistry({
      dataDir: path.join(dataDir, 'registry'),
      port: Number(env['TEST_REGISTRY_PORT'] ?? 18081),
      storage: 'mem',
    });
    started.push(registry);
    console.log(`[infra] registry ${registry.url} (pid ${registry.pid}) ready in ${Date.now() - t} ms`);
    stopWatching = watch(started);
    project.provide('kafkaBrokers', kafka.brokers);
    project.provide('registryUrl', registry.url);
    project.provide('clickhouseUrl', env['CLICKHOUSE_URL']);
    project.provide('kafkaDataDir', path.join(dataDir, 'kafka'));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}

/** A broker or registry that dies mid-run is reported at once; the tests then fail on their own timeouts. */
function watch(processes: ManagedProcess[]): () => void {
  const reported = new Set<ManagedProcess>();
  const timer = setInterval(() => {
    for (const p of processes) {
      const reason = p.exitReason();
      if (reason && !reported.has(p)) {
        reported.add(p);
        console.error(`[infra] ${p.name} (pid ${p.pid}) ${reason}`);
      }
    }
  }, 2_000);
  timer.unref();
  return () => clearInterval(timer);
}
