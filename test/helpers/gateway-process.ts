/**
 * The gateway as its own process, as local mode runs it (main.ts, env config), on a fresh topic prefix
 * with the harness's projects and keys: for tests that need the gateway's own event loop or the memory
 * of its process.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNodeService, type NodeService } from '../../infra/local/node-service.ts';
import { waitUntil } from '../../infra/local/ports.ts';
import { topicNames } from '../../shared/kafka/topics.ts';
import { cleanUp, writeProjectsFile } from './gateway-harness.ts';
import { freePort } from './pipeline.ts';

/** The gateway's memory after full garbage collections. */
export interface SettledMemory {
  /** VmRSS of the process (all threads, Kafka producer threads included), from /proc. */
  rssBytes: number;
  /** Live V8 heap of the main thread (HTTP handling). */
  heapUsedBytes: number;

  /** Memory of Buffers and other objects outside the heap. */
  externalBytes: number;
}

export interface GatewayProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly prefix: string;
  readonly ingestTopic: string;
  readonly service: NodeService;
  /** Full GC in the gateway, then its memory; needs `memoryProbe: true`. */
  settledMemory(): Promise<SettledMemory>;
  /** Stops the process, deletes its topics and registry subject, removes its files. */
  stop(): Promise<void>;
}

/** Starts `services/gateway/src/main.ts` on a free port and waits until /readyz answers 200. */
export async function startGatewayProcess(opts: {
  brokers: string;
  registryUrl: string;
  env?: Record<string, string>;
  /** Preload test/helpers/memory-probe.ts with --expose-gc, for settledMemory(). */
  memoryProbe?: boolean;
}): Promise<GatewayProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-process-'));
  const prefix = `test-${randomUUID()}.`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probeFile = path.join(dir, 'memory.jsonl');
  const service = startNodeService({
    name: 'gateway',
    entry: 'services/gateway/src/main.ts',
    env: {
      KAFKA_BROKERS: opts.brokers,
      SCHEMA_REGISTRY_URL: opts.registryUrl,
      TOPIC_PREFIX: prefix,
      TOPIC_PARTITIONS: '3',
      PROJECTS_FILE: writeProjectsFile(dir),
      GATEWAY_PORT: String(port),
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      ...(opts.memoryProbe ? { MEMORY_PROBE_FILE: probeFile } : {}),
      ...opts.env,
    },
    readyUrl: `${url}/readyz`,
    logFile: path.join(dir, 'gateway.log'),
    nodeArgs: opts.memoryProbe ? ['--expose-gc', '--import', './test/helpers/memory-probe.ts'] : [],
  });
  const stop = async (): Promise<void> => {
    await service.stop();
    await cleanUp(opts.brokers, opts.registryUrl, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await service.ready(120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = service.child.pid as number;
  return {
    url,
    port,
    pid,
    prefix,
    ingestTopic: topicNames(prefix).ingest,
    service,
    async settledMemory() {
      if (!opts.memoryProbe) throw new Error('start the gateway with memoryProbe: true');
      const samples = (): string[] =>
        fs.existsSync(probeFile) ? fs.readFileSync(probeFile, 'utf8').trim().split('\n').filter(Boolean) : [];
      const before = samples().length;
      service.child.kill('SIGUSR2');
      await waitUntil('the memory probe to answer', async () => samples().length > before, {
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      const usage = JSON.parse(samples()[before] as string) as NodeJS.MemoryUsage;
      return {
        rssBytes: readRss(pid),
        heapUsedBytes: usage.heapUsed,
        externalBytes: usage.external,
      };
    },
    stop,
  };
}

/** VmRSS of a process in bytes, from /proc/<pid>/status (Linux). */
function readRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}
