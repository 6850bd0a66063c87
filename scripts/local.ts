/**
 * Local mode: the whole of liftstream on one machine, no Docker.
 *   npm run start:local            start (or resume) everything, print where it listens, Ctrl-C stops it
 *   npm run start:local -- --demo  also send a simulated experiment and print its results once converged
 *
 * Processes: Kafka (KRaft, one JVM), the schema registry (one JVM, schemas kept in Kafka so ids survive
 * restarts), and three Node processes: gateway, processor, stats (which also hosts the ClickHouse sink,
 * because embedded ClickHouse allows one data directory per process). Data lives in .local/data and is
 * reused by the next start. A Node service that dies is restarted with backoff (1 s doubling to 30 s,
 * logged; infra/local/service-supervisor.ts); Ctrl-C during the wait cancels the restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureDownloads } from '../infra/local/fetch.ts';
import type { ManagedProcess } from '../infra/local/java-process.ts';
import { startLocalKafka } from '../infra/local/kafka-broker.ts';
import { localDir } from '../infra/local/paths.ts';
import { startNodeService } from '../infra/local/node-service.ts';
import { startLocalRegistry } from '../infra/local/schema-registry.ts';
import { ServiceSupervisor } from '../infra/local/service-supervisor.ts';
import { generateApiKey } from '../shared/projects/api-key.ts';
import { sha256Hex } from '../shared/projects/project-catalog.ts';
import { demoScenario, runDemo } from './demo.ts';

const ports = {
  kafka: Number(process.env['LOCAL_KAFKA_PORT'] ?? 9092),
  controller: Number(process.env['LOCAL_KAFKA_CONTROLLER_PORT'] ?? 9093),
  registry: Number(process.env['LOCAL_REGISTRY_PORT'] ?? 8081),
  gateway: Number(process.env['GATEWAY_PORT'] ?? 8080),
  processor: Number(process.env['PROCESSOR_PORT'] ?? 8070),
  stats: Number(process.env['STATS_PORT'] ?? 8090),
};
const dataDir = path.join(localDir, 'data');

interface DemoKeys {
  project: string;
  writeKey: string;
  readKey: string;
}

/** A demo project with keys made on first start and kept in .local (git-ignored) so restarts reuse them. */
function ensureDemoProject(expectedSplit?: Record<string, Record<string, number>>): {
  keys: DemoKeys;
  projectsFile: string;
} {
  const keysFile = path.join(localDir, 'demo-keys.json');
  const projectsFile = path.join(localDir, 'projects.json');
  let keys: DemoKeys;
  if (fs.existsSync(keysFile)) {
    keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as DemoKeys;
  } else {
    keys = {
      project: 'demo',
      writeKey: generateApiKey('write').key,
      readKey: generateApiKey('read').key,
    };
    fs.mkdirSync(localDir, { recursive: true });
    fs.writeFileSync(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  if (!fs.existsSync(projectsFile)) {
    const catalog = {
      projects: [
        {
          id: keys.project,
          attribution: 'cumulative',
          keys: [
            { role: 'write', sha256: sha256Hex(keys.writeKey) },
            { role: 'read', sha256: sha256Hex(keys.readKey) },
          ],
        },
      ],
    };
    fs.writeFileSync(projectsFile, JSON.stringify(catalog, null, 2));
  }
  if (expectedSplit) {
    // The demo assigns 2:1:1; the SRM check must compare against that split, not an equal one.
    const catalog = JSON.parse(fs.readFileSync(projectsFile, 'utf8')) as {
      projects: Array<{ id: string; expectedSplit?: Record<string, Record<string, number>> }>;
    };
    const demo = catalog.projects.find((p) => p.id === keys.project);
    if (demo) demo.expectedSplit = { ...demo.expectedSplit, ...expectedSplit };
    fs.writeFileSync(projectsFile, JSON.stringify(catalog, null, 2));
  }
  return { keys, projectsFile };
}

let stopping = false;

/** A service kept up: restarted with backoff if it dies after its first start (logged). */
function service(
  name: 'gateway' | 'processor' | 'stats',
  env: NodeJS.ProcessEnv,
  port: number,
): ServiceSupervisor {
  const launch = () =>
    startNodeService({
      name,
      entry: `services/${name}/src/main.ts`,
      env,
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      logFile: path.join(localDir, 'logs', `${name}.log`),
    });
  return new ServiceSupervisor({ launch });
}

async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  ensureDownloads();
  const jvms: ManagedProcess[] = [];
  const services: ServiceSupervisor[] = [];

  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\n[local] stopping ...');
    await Promise.all(services.map((s) => s.stop()));
    for (const jvm of jvms.reverse()) await jvm.stop();
    console.log('[local] stopped; data kept in .local/data');
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  try {
    const kafka = await startLocalKafka({
      dataDir: path.join(dataDir, 'kafka'),
      port: ports.kafka,
      controllerPort: ports.controller,
    });
    jvms.push(kafka);
    const registry = await startLocalRegistry({
      dataDir: path.join(dataDir, 'registry'),
      port: ports.registry,
      storage: 'kafkasql',
      kafkaBrokers: kafka.brokers,
    });
    jvms.push(registry);

    const scenario = demo ? demoScenario() : undefined;
    const { keys, projectsFile } = ensureDemoProject(scenario?.settings['demo']?.expectedSplit);
    const common = {
      KAFKA_BROKERS: kafka.brokers,
      SCHEMA_REGISTRY_URL: registry.url,
      PROJECTS_FILE: projectsFile,
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
    };
    services.push(
      service('gateway', { ...common, GATEWAY_PORT: String(ports.gateway) }, ports.gateway),
      service('processor', { ...common, PROCESSOR_PORT: String(ports.processor) }, ports.processor),
      service(
        'stats',
        {
          ...common,
          STATS_PORT: String(ports.stats),
          CLICKHOUSE_DATA_DIR: path.join(dataDir, 'clickhouse'),
          SINK_ENABLED: 'true',
        },
        ports.stats,
      ),
    );
    await Promise.all(services.map((s) => s.start()));

    console.log(`
liftstream is running (data in .local/data, logs in .local/logs; Ctrl-C stops everything)

  gateway    http://127.0.0.1:${ports.gateway}      POST /v1/batch, /v1/track, /v1/exposure, /v1/alias
  stats      http://127.0.0.1:${ports.stats}      GET /v1/experiments, /v1/experiments/:experiment/results
  processor  http://127.0.0.1:${ports.processor}      /healthz /readyz /metrics
  kafka      ${kafka.brokers}
  registry   ${registry.url}
  clickhouse embedded (chDB) in .local/data/clickhouse, inside the stats process

  project    ${keys.project}
  write key  ${keys.writeKey}
  read key   ${keys.readKey}

  curl -s -X POST http://127.0.0.1:${ports.gateway}/v1/batch -H 'authorization: Bearer ${keys.writeKey}' \\
       -H 'content-type: application/json' \\
       -d '{"batch":[{"type":"exposure","user_id":"u1","experiment":"checkout","variation":"control"},
                     {"type":"exposure","user_id":"u2","experiment":"checkout","variation":"treatment"},
                     {"type":"track","user_id":"u2","event":"purchase","value":30}]}'
  curl -s 'http://127.0.0.1:${ports.stats}/v1/experiments/checkout/results?metric=purchase' \\
       -H 'authorization: Bearer ${keys.readKey}'
`);
    if (scenario) {
      await runDemo(
        {
          gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
          statsUrl: `http://127.0.0.1:${ports.stats}`,
          writeKey: keys.writeKey,
          readKey: keys.readKey,
        },
        scenario,
      );
    }
  } catch (err) {
    console.error(`[local] ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  }
}

void main();
