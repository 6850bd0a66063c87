/**
 * The whole of liftstream for end-to-end tests: gateway, processor and stats (+ sink) as child processes,
 * exactly as local mode runs them, on their own topic prefix, consumer groups, ports and ClickHouse data
 * dir, against the harness's broker and registry.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../infra/local/ports.ts';
import { startNodeService, type NodeService } from '../../infra/local/node-service.ts';
import { sha256Hex } from '../../shared/projects/project-catalog.ts';

export interface PipelineProject {
  id: string;
  attribution: 'cumulative' | 'decision';
  expectedSplit?: Record<string, Record<string, number>>;
  /** Analysis settings written as given (shared/projects/metric-catalog.ts). */
  dimensions?: string[];
  metrics?: unknown[];
  experiments?: Record<string, unknown>;
  /** The project's `alerts` block, written as given (shared/projects/alert-settings.ts); its secret goes in extraEnv. */
  alerts?: unknown;
}

export interface Pipeline {
  gatewayUrl: string;
  statsUrl: string;
  /** The processor's HTTP surface (/healthz, /readyz, /metrics). */
  processorUrl: string;
  keys: Record<string, { write: string; read: string }>;
  topicPrefix: string;
  services: Record<'gateway' | 'processor' | 'stats', NodeService>;
  /**
   * Restarts one service (after a kill or stop) with the same configuration, or with `env` on top of it
   * for this start only, and waits until it is ready.
   */
  restart(name: 'gateway' | 'processor' | 'stats', env?: NodeJS.ProcessEnv): Promise<void>;
  /**
   * Starts one more process of a service with the same configuration plus `env` (give it its own port),
   * not managed by the pipeline: the caller stops it. Its log is `<name>-extra-<n>.log`.
   */
  startExtra(name: 'gateway' | 'processor' | 'stats', env: NodeJS.ProcessEnv): NodeService;
  stop(): Promise<void>;
}

// Ports for child services: below the ephemeral range, so no outgoing connection takes one first.
export { freePort } from '../../infra/local/ports.ts';

export async function startPipeline(opts: {
  kafkaBrokers: string;
  registryUrl: string;
  clickhouseUrl?: string | undefined;
  projects: PipelineProject[];
  extraEnv?: NodeJS.ProcessEnv;
  /** Embedded ClickHouse's data dir for stats (default: inside the pipeline's work dir). */
  clickhouseDataDir?: string;
}): Promise<Pipeline> {
  const runId = randomUUID().slice(0, 8);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `liftstream-e2e-${runId}-`));
  const keys: Pipeline['keys'] = {};
  const catalog = {
    projects: opts.projects.map((p) => {
      const write = `lsw_${randomBytes(12).toString('hex')}`;
      const read = `lsr_${randomBytes(12).toString('hex')}`;
      keys[p.id] = { write, read };
      return {
        id: p.id,
        attribution: p.attribution,
        expectedSplit: p.expectedSplit ?? {},
        ...(p.dimensions === undefined ? {} : { dimensions: p.dimensions }),
        ...(p.metrics === undefined ? {} : { metrics: p.metrics }),
        ...(p.experiments === undefined ? {} : { experiments: p.experiments }),
        ...(p.alerts === undefined ? {} : { alerts: p.alerts }),
        keys: [
          { role: 'write', sha256: sha256Hex(write) },
          { role: 'read', sha256: sha256Hex(read) },
        ],
      };
    }),
  };
  const projectsFile = path.join(workDir, 'projects.json');
  fs.writeFileSync(projectsFile, JSON.stringify(catalog));
  const topicPrefix = `e2e-${runId}.`;
  const ports = { gateway: await freePort(), processor: await freePort(), stats: await freePort() };
  const common: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: opts.kafkaBrokers,
    SCHEMA_REGISTRY_URL: opts.registryUrl,
    TOPIC_PREFIX: topicPrefix,
    TOPIC_PARTITIONS: '4',
    PROJECTS_FILE: projectsFile,
    PROCESSOR_APP_ID: `e2e-${runId}-processor`,
    SINK_GROUP_ID: `e2e-${runId}-sink`,
    LOG_LEVEL: 'info',
    ...opts.extraEnv,
  };
  if (opts.clickhouseUrl) {
    common['CLICKHOUSE_URL'] = opts.clickhouseUrl;
    common['CLICKHOUSE_DATABASE'] = `e2e_${runId}`;
  }
  const envs = {
    gateway: { ...common, GATEWAY_PORT: String(ports.gateway) },
    processor: { ...common, PROCESSOR_PORT: String(ports.processor) },
    stats: {
      ...common,
      STATS_PORT: String(ports.stats),
      SINK_ENABLED: 'true',
      CLICKHOUSE_DATA_DIR: opts.clickhouseDataDir ?? path.join(workDir, 'clickhouse'),
    },
  };
  let extras = 0;
  const launch = (
    name: 'gateway' | 'processor' | 'stats',
    env: NodeJS.ProcessEnv = {},
    logName: string = name,
  ): NodeService => {
    const portVariable = `${name.toUpperCase()}_PORT`;
    return startNodeService({
      name,
      entry: `services/${name}/src/main.ts`,
      env: { ...envs[name], ...env },
      readyUrl: `http://127.0.0.1:${env[portVariable] ?? ports[name]}/readyz`,
      logFile: path.join(workDir, 'logs', `${logName}.log`),
    });
  };
  // The gateway first: it creates the topics the others subscribe to.
  const services = { gateway: launch('gateway') } as Pipeline['services'];
  await services.gateway.ready();
  services.processor = launch('processor');
  services.stats = launch('stats');
  await Promise.all([services.processor.ready(), services.stats.ready()]);
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    statsUrl: `http://127.0.0.1:${ports.stats}`,
    processorUrl: `http://127.0.0.1:${ports.processor}`,
    keys,
    topicPrefix,
    services,
    async restart(name, env) {
      await services[name].stop(5_000);
      services[name] = launch(name, env);
      await services[name].ready();
    },
    startExtra(name, env) {
      extras += 1;
      return launch(name, env, `${name}-extra-${extras}`);
    },
    async stop() {
      await Promise.all(Object.values(services).map((s) => s.stop()));
      if (process.env['KEEP_E2E_LOGS'] !== '1') fs.rmSync(workDir, { recursive: true, force: true });
      else console.log(`[e2e] logs kept in ${workDir}`);
    },
  };
}
