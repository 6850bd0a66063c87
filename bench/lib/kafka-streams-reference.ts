/**
 * Runs the Kafka Streams reference application (`shared/anchors/kafka-streams-reference/run.sh`, issue 18) as is,
 * warmed (`--warmup`), over a pre-loaded ingest topic, and reads its result line:
 *   (after a warm-up pass) kafka-streams reference: N events in S s = R events/s, C CPU-s (E events per CPU-second)
 *     1 stream thread(s); start-up (...) ...; broker CPU B s while processing; peak RSS M MB
 *     outputs: ...
 * run.sh builds with Maven into a cache folder first (downloads into ~/.m2 on a first build); a failed build or
 * run comes back as a reason, never as figures.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KafkaStreamsReferenceOptions {
  /** The reference's run.sh (its folder may be read-only: run.sh builds elsewhere). */
  runScript: string;
  /** The pre-loaded ingest topic; the reference reads its partition count and record count from the broker. */
  topic: string;
  /** Stream threads. */
  threads: number;
  /** The schemas folder passed as `--schemas` (see referenceSchemasDir). */
  schemasDir: string;
  bootstrap: string;
  registryUrl: string;
  /**
   * Read when the measured pass starts (its configuration line in the reference's log, start-up included) and
   * when its result line arrives; the differences come back by name (e.g. a process's CPU seconds).
   */
  samplers?: Record<string, () => number>;
  /** The whole run: build, warm-up pass, measured pass and the reference's own clean-up (default 25 min). */
  timeoutMs?: number;
}

export interface KafkaStreamsReferenceResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** The reference's process CPU from its RUNNING state to done (the window of its rate). */
  cpuSeconds: number;
  eventsPerCpuSecond: number;
  /** The broker's CPU over the same window, as the reference read it; undefined when it found no broker. */
  brokerCpuSeconds: number | undefined;
  /** The reference's lines after its result line (threads, start-up, outputs, JIT share), trimmed. */
  details: string[];
  /** The samplers' differences over the measured pass. */
  sampled: Record<string, number>;
  /** The reference's stderr log (topology, warm-up pass, clean-up). */
  logFile: string | undefined;
}

/**
 * What a failed or stopped run may have left behind: the reference cleans up only after a pass that finished
 * (topics `<app id>.*` and `<app id>-*`, its consumer group, the registry subjects of its two output topics, its
 * state folder).
 */
export interface KafkaStreamsReferenceLeftovers {
  appIds: string[];
  stateDirs: string[];
}

export type KafkaStreamsReferenceOutcome =
  | { ok: true; result: KafkaStreamsReferenceResult }
  | {
      ok: false;
      stage: 'missing' | 'build' | 'run' | 'output' | 'timeout';
      reason: string;
      leftovers: KafkaStreamsReferenceLeftovers;
    };

const RESULT =
  /kafka-streams reference: (\d+) events in ([\d.]+) s = (\d+) events\/s, ([\d.]+) CPU-s \((\d+) events per CPU-second\)/;
const BROKER = /broker CPU (-?[\d.]+|NaN) s while processing/;
/** Printed to the reference's log at the start of each pass; with --warmup the second one starts the measured pass. */
const PASS_START = 'kafka-streams reference: input ';
/** run.sh's "log: <file>" line, once Maven has built (its colour codes, unterminated, may precede it). */
const LOG_LINE = /^log: (.+)$/m;
/** Maven colours some lines even in batch mode. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const DEFAULT_TIMEOUT_MS = 25 * 60_000;

export function runKafkaStreamsReference(
  options: KafkaStreamsReferenceOptions,
): Promise<KafkaStreamsReferenceOutcome> {
  if (!fs.existsSync(options.runScript))
    return Promise.resolve({
      ok: false,
      stage: 'missing',
      reason: `${options.runScript} not found`,
      leftovers: { appIds: [], stateDirs: [] },
    });
  const samplers = Object.entries(options.samplers ?? {});
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const args = [
    options.runScript,
    options.topic,
    String(options.threads),
    '--warmup',
    '--schemas',
    options.schemasDir,
    '--bootstrap',
    options.bootstrap,
    '--registry',
    options.registryUrl,
  ];
  // Its own process group, so that a time-out ends the JVM and Maven too, not only bash.
  const proc = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let logFile: string | undefined;
  let atStart: number[] | undefined;
  let atResult: number[] | undefined;
  const sample = (): number[] =>
    samplers.map(([, read]) => {
      try {
        return read();
      } catch {
        return NaN; // e.g. a process that has gone
      }
    });

  // The measured pass starts when its configuration line reaches the log (the warm-up pass wrote the first one).
  const watch = setInterval(() => {
    if (atStart !== undefined || logFile === undefined) return;
    let text = '';
    try {
      text = fs.readFileSync(logFile, 'utf8');
    } catch {
      return;
    }
    if (text.split(PASS_START).length - 1 >= 2) atStart = sample();
  }, 100);

  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (atResult === undefined && RESULT.test(stdout)) atResult = sample();
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    logFile ??= LOG_LINE.exec(stderr.replace(ANSI, ''))?.[1]?.trim();
  });

  return new Promise((resolve) => {
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      setTimeout(() => signalGroup('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    proc.on('error', (err) => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve({
        ok: false,
        stage: 'run',
        reason: `could not start bash ${options.runScript}: ${err.message}`,
        leftovers: { appIds: [], stateDirs: [] },
      });
    });
    proc.on('close', (code) => {
      clearInterval(watch);
      clearTimeout(timer);
      if (timedOut) {
        resolve({
          ok: false,
          stage: 'timeout',
          reason: `no result within ${timeoutMs / 1000} s`,
          leftovers: leftovers(logFile),
        });
        return;
      }
      const match = RESULT.exec(stdout);
      if (code !== 0 || match === null) {
        // run.sh prints "log: <file>" once Maven has built; without it the build is what failed.
        if (logFile === undefined)
          resolve({
            ok: false,
            stage: 'build',
            reason: buildFailure(stderr, code),
            leftovers: { appIds: [], stateDirs: [] },
          });
        else
          resolve({
            ok: false,
            stage: code !== 0 ? 'run' : 'output',
            reason:
              code !== 0
                ? `run.sh exited with ${code}: ${runFailure(stderr, logFile)} (log ${logFile})`
                : `no result line in its output: ${lastLines(stdout, 6)} (log ${logFile})`,
            leftovers: leftovers(logFile),
          });
        return;
      }
      const after = stdout
        .slice(match.index + match[0].length)
        .split('\n')
        .slice(1);
      const broker = BROKER.exec(stdout)?.[1];
      const brokerCpu = broker === undefined ? NaN : Number(broker);
      const sampled: Record<string, number> = {};
      samplers.forEach(([name], i) => {
        if (atStart !== undefined && atResult !== undefined) sampled[name] = atResult[i]! - atStart[i]!;
      });
      resolve({
        ok: true,
        result: {
          events: Number(match[1]),
          seconds: Number(match[2]),
          eventsPerSecond: Number(match[3]),
          cpuSeconds: Number(match[4]),
          eventsPerCpuSecond: Number(match[5]),
          brokerCpuSeconds: Number.isFinite(brokerCpu) && brokerCpu >= 0 ? brokerCpu : undefined,
          details: after.map((l) => l.trim()).filter((l) => l !== ''),
          sampled,
          logFile,
        },
      });
    });
  });
}

/** Why Maven failed, from its output: an artifact it could not download, else its first errors. */
function buildFailure(stderr: string, code: number | null): string {
  const lines = stderr.split('\n').map((l) => l.replace(ANSI, '').trim());
  const download = lines.find((l) =>
    /Could not (resolve|transfer|find artifact)|Non-resolvable|Failed to read artifact descriptor|Unknown host|Connection refused|timed out/i.test(
      l,
    ),
  );
  const why =
    download !== undefined
      ? `a Maven dependency could not be downloaded: ${download.slice(0, 400)}`
      : lines
          .filter((l) => l.startsWith('[ERROR]') && l !== '[ERROR]')
          .slice(0, 3)
          .join(' | ')
          .slice(0, 600) || lastLines(stderr, 6);
  return `the Maven build failed (exit ${code}): ${why}`;
}

/** Why the reference failed, from its log (else the lines run.sh printed): the error and its distinct causes. */
function runFailure(stderr: string, logFile: string): string {
  let text = stderr;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    // run.sh's tail of the log, in stderr, is all there is.
  }
  const lines = text.split('\n').map((l) => l.replace(ANSI, '').trim());
  const error = lines.find((l) => /^Exception in thread/.test(l));
  const causes = [...new Set(lines.filter((l) => l.startsWith('Caused by: ')))].map((l) =>
    l.slice('Caused by: '.length),
  );
  if (error === undefined && causes.length === 0) return lastLines(stderr, 6);
  return [error, ...causes.slice(0, 3)]
    .filter((l) => l !== undefined)
    .join(' <- ')
    .slice(0, 1000);
}

/** The application ids and state folders of the passes the reference's log shows started. */
function leftovers(logFile: string | undefined): KafkaStreamsReferenceLeftovers {
  let text = '';
  try {
    if (logFile !== undefined) text = fs.readFileSync(logFile, 'utf8');
  } catch {
    // No log: nothing started.
  }
  const appIds = [...text.matchAll(/, app id (\S+), outputs /g)].map((m) => m[1]!);
  const stateDirs = [...text.matchAll(/Resolved state\.dir: \[([^\]]+)\]/g)].map((m) => m[1]!);
  return { appIds: [...new Set(appIds)], stateDirs: [...new Set(stateDirs)] };
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 800);
}

/**
 * The schemas folder the reference runs with: the project's `ingest-event.avsc` (the reference decodes ingest records
 * with its local schema as the writer's, so it must be the one the bench wrote them with) and the reference's own
 * bundled output schemas. The project's `unit-exposure.avsc` has gained `dimensions` (a map with a default), which the
 * reference's row builder does not fill: with the project's output schemas it fails on its first row. Writing rows
 * without that (empty) map is the only difference; it costs liftstream one byte per exposure row that the reference
 * does not write.
 */
export function referenceSchemasDir(referenceDir: string, projectSchemasDir: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksref-schemas-'));
  const bundled = path.join(referenceDir, 'src', 'main', 'resources');
  for (const file of fs.readdirSync(bundled).filter((f) => f.endsWith('.avsc'))) {
    fs.copyFileSync(path.join(bundled, file), path.join(dir, file));
  }
  fs.copyFileSync(path.join(projectSchemasDir, 'ingest-event.avsc'), path.join(dir, 'ingest-event.avsc'));
  return dir;
}
