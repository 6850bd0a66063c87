/**
 * The image builds and runs, proven without a Docker engine (none runs where liftstream is built).
 *
 * The Dockerfile's stages are replayed from the Dockerfile itself (test/helpers/docker/dockerfile-replay.ts):
 * each stage's COPY lays its files out in a temp root as Docker would (.dockerignore applied), its RUN
 * commands run there (`npm ci`, the build, the prune), ENV and WORKDIR apply. Then the compose file, as
 * `docker-compose config` resolves it, gives each liftstream service its command and environment; each is
 * started from the runtime stage's root with compose's host names mapped to this test's broker and
 * registry, and the README's first batch (deploy/first-batch.json) must give the README's answer.
 *
 * Where this differs from a container, on purpose:
 * - ClickHouse: no server can run here, so stats uses embedded ClickHouse (chDB, linked into the runtime
 *   root's node_modules for this test only: the image drops it) instead of CLICKHOUSE_URL.
 * - Ports and topic prefix: free ports and a fresh TOPIC_PREFIX, since the broker is shared with other
 *   tests; STATE_DIR and SINK_STATE_DIR in the test's temp dir (a container's own filesystem).
 * - `node`/`npm` are this machine's; the test requires the same Node major as the base image.
 * - USER is checked (non-root), not switched to.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../infra/local/paths.ts';
import { waitUntil } from '../../infra/local/ports.ts';
import { composeConfig, type ResolvedService } from '../helpers/docker/compose-config.ts';
import { replayDockerfile, type ReplayedStage } from '../helpers/docker/dockerfile-replay.ts';
import { freePort } from '../helpers/pipeline.ts';

const liftstreamServices = ['gateway', 'processor', 'stats'] as const;
type ServiceName = (typeof liftstreamServices)[number];
const readinessPath: Record<ServiceName, string> = {
  gateway: '/readyz',
  processor: '/readyz',
  stats: '/readyz',
};
const portVariable: Record<ServiceName, string> = {
  gateway: 'GATEWAY_PORT',
  processor: 'PROCESSOR_PORT',
  stats: 'STATS_PORT',
};

interface Running {
  name: ServiceName;
  child: ChildProcess;
  url: string;
  logFile: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  stopGraceMs: number;
}

describe('the Dockerfile, replayed stage by stage, then the compose services started from its image', () => {
  // Kept for the whole file (removed in afterAll), unlike the helpers' per-test temp dirs.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerfile-replay-'));
  const brokers = inject('kafkaBrokers');
  const registryUrl = inject('registryUrl');
  let stages: ReplayedStage[] = [];
  let runtime: ReplayedStage;
  let compose: Record<string, ResolvedService> = {};
  const running: Running[] = [];
  let keys: { write: string; read: string };

  beforeAll(async () => {
    const config = composeConfig(
      path.join(repoRoot, 'docker-compose.yml'),
      'CLICKHOUSE_PASSWORD=replay-secret\n',
    );
    expect(config.stderr, 'docker-compose config').not.toMatch(/error/i);
    compose = config.services;

    stages = await replayDockerfile({
      dockerfile: path.join(repoRoot, 'Dockerfile'),
      context: repoRoot,
      workDir: work,
      runEnv: { ...process.env, CI: 'true' },
      log: (line) => console.log(`[replay] ${line}`),
    });
    runtime = stages.at(-1) as ReplayedStage;
    for (const stage of stages)
      for (const run of stage.runs) console.log(`[replay] ${stage.name}: ${run.command} took ${run.ms} ms`);
  }, 900_000);

  afterAll(async () => {
    await Promise.all(running.map((r) => stop(r)));
    fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('builds on Node 22 LTS, the Node running this replay', () => {
    for (const stage of stages) expect(stage.baseImage, `stage ${stage.name}`).toMatch(/^node:22[.-]/);
    expect(process.versions.node.split('.')[0], 'run the suite under Node 22, as .ci/run does').toBe('22');
  });

  it('leaves a runtime image of compiled code and production dependencies, run by a non-root user', () => {
    const app = path.join(runtime.root, runtime.workdir);
    expect(runtime.user, 'USER').toBeDefined();
    expect(['root', '0']).not.toContain(runtime.user);
    for (const service of liftstreamServices)
      expect(fs.existsSync(path.join(app, `dist/services/${service}/src/main.js`)), service).toBe(true);
    expect(fs.existsSync(path.join(app, 'dist/cli/src/main.js')), 'the CLI').toBe(true);
    expect(fs.existsSync(path.join(app, 'node_modules/kafkajs')), 'kafkajs').toBe(true);
    expect(fs.existsSync(path.join(app, 'node_modules/vitest')), 'no dev dependencies').toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules/chdb')), 'no embedded ClickHouse').toBe(false);
    expect(
      fs.existsSync(path.join(app, 'src')) || fs.existsSync(path.join(app, 'services')),
      'no sources',
    ).toBe(false);
  });

  it('`docker compose run --rm cli projects init` writes the catalog the services read', () => {
    const cli = compose['cli'];
    expect(cli?.entrypoint, 'the cli service').toEqual(['node', 'dist/cli/src/main.js']);
    const projectsFile = compose['gateway']?.environment?.['PROJECTS_FILE'] ?? '';
    expect(cli?.environment?.['PROJECTS_FILE'], 'the cli writes the file the services read').toBe(
      projectsFile,
    );
    const result = spawnSync(process.execPath, [...(cli?.entrypoint ?? []).slice(1), 'projects', 'init'], {
      cwd: path.join(runtime.root, runtime.workdir),
      env: mappedEnvironment(cli?.environment ?? {}, {}),
      encoding: 'utf8',
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    const write = /lsw_[A-Za-z0-9_-]+/.exec(result.stdout)?.[0];
    const read = /lsr_[A-Za-z0-9_-]+/.exec(result.stdout)?.[0];
    expect(write && read, `keys printed:\n${result.stdout}`).toBeTruthy();
    keys = { write: write as string, read: read as string };
    expect(fs.existsSync(imagePath(projectsFile)), projectsFile).toBe(true);
  });

  it('starts gateway, processor and stats with compose’s command and environment; all become ready', async () => {
    // The runtime image has no chDB; this test's stats uses it in place of a ClickHouse server.
    for (const pkg of ['chdb', '@chdb']) {
      const link = path.join(runtime.root, runtime.workdir, 'node_modules', pkg);
      fs.symlinkSync(path.join(repoRoot, 'node_modules', pkg), link);
    }
    const prefix = `replay-${randomUUID()}.`;
    for (const name of liftstreamServices) {
      const service = compose[name];
      expect(service?.command?.[0], `${name} command`).toBe('node');
      const port = await freePort();
      const env = mappedEnvironment(service?.environment ?? {}, {
        [portVariable[name]]: String(port),
        TOPIC_PREFIX: prefix,
        STATE_DIR: path.join(work, 'state', name),
        SINK_STATE_DIR: path.join(work, 'sink-state'),
        CLICKHOUSE_DATA_DIR: path.join(work, 'clickhouse'),
      });
      running.push(start(name, service?.command ?? [], env, port, graceOf(service)));
    }
    for (const r of running)
      await waitUntil(
        `${r.name} ${readinessPath[r.name]}`,
        async () => (await fetch(r.url + readinessPath[r.name])).ok,
        {
          timeoutMs: 180_000,
          intervalMs: 300,
          abortIf: () =>
            r.child.exitCode === null && r.child.signalCode === null
              ? undefined
              : `exited (${r.child.signalCode ?? r.child.exitCode}):\n${tail(r.logFile)}`,
        },
      );
  }, 240_000);

  it('answers the README’s first batch (deploy/first-batch.json) as the README shows, gateway → processor → stats', async () => {
    const gateway = urlOf('gateway');
    const stats = urlOf('stats');
    const response = await fetch(`${gateway}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/json' },
      body: fs.readFileSync(path.join(repoRoot, 'deploy', 'first-batch.json')),
    });
    const answer = (await response.json()) as {
      accepted: number;
      rejected: Array<{ index: number; code: string }>;
    };
    expect(response.status, JSON.stringify(answer)).toBe(200);
    expect(answer.accepted).toBe(8);
    expect(answer.rejected.map((r) => [r.index, r.code])).toEqual([[8, 'reserved_event_name']]);

    let last = '';
    await waitUntil(
      'the batch in stats',
      async () => {
        const res = await fetch(`${stats}/v1/experiments/checkout/results?metric=purchase`, {
          headers: { authorization: `Bearer ${keys.read}` },
        });
        last = `${res.status} ${await res.text()}`;
        if (!res.ok) return false;
        const body = JSON.parse(last.slice(4)) as {
          variations: Array<{
            variation: string;
            units: number;
            conversions: number;
            value_per_unit: number;
          }>;
        };
        const arm = (v: string) => body.variations.find((x) => x.variation === v);
        // As the README's answer: a-3's purchase and u-3's (after the alias) count for one treatment unit.
        return (
          JSON.stringify(
            [arm('control'), arm('treatment')].map((a) => [a?.units, a?.conversions, a?.value_per_unit]),
          ) ===
          JSON.stringify([
            [2, 1, 10],
            [2, 1, 25],
          ])
        );
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last answer: ${last}`);
    });
  }, 90_000);

  it('each service stops on SIGTERM within compose’s stop_grace_period, exiting 0', async () => {
    for (const r of running) {
      r.child.kill('SIGTERM');
      const { code, signal, afterMs } = await r.exit;
      expect({ code, signal }, `${r.name}:\n${tail(r.logFile)}`).toEqual({ code: 0, signal: null });
      expect(afterMs, `${r.name} stop took`).toBeLessThan(r.stopGraceMs);
    }
  }, 120_000);

  /** A path inside the image, on this machine. */
  function imagePath(p: string): string {
    return path.join(runtime.root, path.posix.resolve(runtime.workdir, p));
  }

  function runtimeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    // This machine's environment (CA certificates, PATH) under the image's ENV and compose's environment.
    return { ...process.env, ...runtime.env, ...extra };
  }

  /** Compose's environment with its host names pointed at this test's infrastructure. */
  function mappedEnvironment(
    env: Record<string, string>,
    overrides: Record<string, string>,
  ): NodeJS.ProcessEnv {
    const mapped: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
      if (key === 'KAFKA_BROKERS') mapped[key] = brokers;
      else if (key === 'SCHEMA_REGISTRY_URL') mapped[key] = registryUrl;
      else if (key.startsWith('CLICKHOUSE_') && key !== 'CLICKHOUSE_DATABASE')
        continue; // embedded instead
      else if (key.endsWith('_HOST') && value === '0.0.0.0') mapped[key] = '127.0.0.1';
      else if (value.startsWith('/')) mapped[key] = imagePath(value);
      else mapped[key] = value;
    }
    for (const [key, value] of Object.entries(mapped))
      expect(value, `${key} still names a compose host`).not.toMatch(/\b(kafka|registry|clickhouse):\d+/);
    return runtimeEnv({ ...mapped, ...overrides });
  }

  function start(
    name: ServiceName,
    command: string[],
    env: NodeJS.ProcessEnv,
    port: number,
    stopGraceMs: number,
  ): Running {
    const logFile = path.join(work, 'logs', `${name}.log`);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, command.slice(1), {
      cwd: path.join(runtime.root, runtime.workdir),
      env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    let signalledAt = 0;
    const kill = child.kill.bind(child);
    child.kill = (signal?: NodeJS.Signals | number) => {
      signalledAt ||= Date.now();
      return kill(signal);
    };
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>(
      (resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal, afterMs: Date.now() - signalledAt })),
    );
    return { name, child, url: `http://127.0.0.1:${port}`, logFile, exit, stopGraceMs };
  }

  function urlOf(name: ServiceName): string {
    const r = running.find((x) => x.name === name);
    if (!r) throw new Error(`${name} is not running`);
    return r.url;
  }
});

function graceOf(service: ResolvedService | undefined): number {
  const match = /^(\d+)s$/.exec(service?.stop_grace_period ?? '10s');
  return Number(match?.[1] ?? 10) * 1_000;
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGKILL');
  await r.exit;
}

function tail(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}
