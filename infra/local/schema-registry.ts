import fs from 'node:fs';
import path from 'node:path';
import { awaitReady, spawnJava, type ManagedProcess } from './java-process.ts';
import { apicurioHome, registryJavaFile } from './paths.ts';
import { assertPortFree } from './ports.ts';

export interface LocalRegistryOptions {
  /** Folder for the registry's log and pid file. */
  dataDir: string;
  host?: string;
  port: number;
  /**
   * `mem`: schemas vanish with the process (tests, with a fresh broker each run).
   * `kafkasql`: schemas are kept in a Kafka topic, so ids in records stay resolvable across restarts.
   */
  storage: 'mem' | 'kafkasql';
  kafkaBrokers?: string;
  heapMb?: number;
  startTimeoutMs?: number;
}

export interface LocalRegistry extends ManagedProcess {
  /** Base URL of the Confluent-compatible API. */
  readonly url: string;
}

/** Where a registry started with `dataDir` keeps its pid. */
export const registryPidFile = (dataDir: string): string => path.join(dataDir, 'registry.pid');

/** Apicurio Registry 3 with its Confluent API (ccompat v7), on loopback only. */
export async function startLocalRegistry(opts: LocalRegistryOptions): Promise<LocalRegistry> {
  const host = opts.host ?? '127.0.0.1';
  await assertPortFree(host, opts.port, 'Schema registry', 'LOCAL_REGISTRY_PORT');
  const managementPort = opts.port + 1;
  await assertPortFree(host, managementPort, 'Schema registry management interface', 'LOCAL_REGISTRY_PORT');
  const env: NodeJS.ProcessEnv = {
    QUARKUS_HTTP_HOST: host,
    QUARKUS_HTTP_PORT: String(opts.port),
    QUARKUS_LOG_LEVEL: 'WARN',
    QUARKUS_PROFILE: 'prod',
    // Quarkus' management interface (health, metrics) would bind 0.0.0.0:9000 and collide between instances.
    QUARKUS_MANAGEMENT_HOST: host,
    QUARKUS_MANAGEMENT_PORT: String(managementPort),
    // The Confluent clients compare the compatibility level they read with the one they ask for; a
    // global BACKWARD makes Apicurio's answer match theirs (Apicurio/apicurio-registry#1097, #5337).
    APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD',
  };
  if (opts.storage === 'kafkasql') {
    if (!opts.kafkaBrokers) throw new Error('Schema registry: kafkasql storage needs kafkaBrokers');
    env['APICURIO_STORAGE_KIND'] = 'kafkasql';
    env['APICURIO_KAFKASQL_BOOTSTRAP_SERVERS'] = opts.kafkaBrokers;
  }
  const java = fs.existsSync(registryJavaFile) ? fs.readFileSync(registryJavaFile, 'utf8').trim() : 'java';
  const proc = spawnJava({
    name: 'schema-registry',
    java,
    args: [
      `-Xmx${opts.heapMb ?? 384}m`,
      '-XX:+UseSerialGC',
      '-jar',
      path.join(apicurioHome, 'quarkus-run.jar'),
    ],
    cwd: apicurioHome,
    env,
    logFile: path.join(opts.dataDir, 'logs', 'registry.out'),
    pidFile: registryPidFile(opts.dataDir),
  });
  const url = `http://${host}:${opts.port}/apis/ccompat/v7`;
  await awaitReady(
    proc,
    `Schema registry at ${url}`,
    () => registryAnswers(url),
    opts.startTimeoutMs ?? 120_000,
  );
  return { ...proc, url };
}

export async function registryAnswers(url: string): Promise<boolean> {
  const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}
