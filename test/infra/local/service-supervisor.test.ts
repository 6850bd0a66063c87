import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNodeService, type NodeService } from '../../../infra/local/node-service.ts';
import { freePort } from '../../../infra/local/ports.ts';
import { ServiceSupervisor, type SupervisorOptions } from '../../../infra/local/service-supervisor.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Harness {
  supervisor: ServiceSupervisor;
  lines: string[];
  launched: NodeService[];
  crashFile: string;
  readyUrl: string;
  logFile: string;
}

const supervisors: ServiceSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop(1_000)));
});

/** A supervisor of test/helpers/local/flaky-service.ts with small backoffs. */
async function supervise(opts: Partial<SupervisorOptions> = {}): Promise<Harness> {
  const dir = tempDir('liftstream-supervisor-test-');
  const port = await freePort();
  const crashFile = path.join(dir, 'crash');
  const readyUrl = `http://127.0.0.1:${port}/readyz`;
  const logFile = path.join(dir, 'flaky.log');
  const lines: string[] = [];
  const launched: NodeService[] = [];
  const supervisor = new ServiceSupervisor({
    launch: () => {
      const service = startNodeService({
        name: 'flaky',
        entry: 'test/helpers/local/flaky-service.ts',
        env: { PORT: String(port), CRASH_FILE: crashFile },
        readyUrl,
        logFile,
      });
      launched.push(service);
      return service;
    },
    backoff: { initialMs: 100, maxMs: 400 },
    resetAfterMs: 60_000,
    readyTimeoutMs: 20_000,
    log: (line) => lines.push(line),
    ...opts,
  });
  supervisors.push(supervisor);
  return { supervisor, lines, launched, crashFile, readyUrl, logFile };
}

/** Waits until a log line from index `from` on matches `pattern` (10 s at most) and returns it. */
async function lineMatching(lines: string[], pattern: RegExp, from = 0): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 25) {
    const line = lines.slice(from).find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await sleep(25);
  }
  throw new Error(`no log line matching ${pattern}; lines: ${JSON.stringify(lines)}`);
}

const isReady = (url: string): Promise<boolean> =>
  fetch(url)
    .then((r) => r.ok)
    .catch(() => false);

describe('ServiceSupervisor', () => {
  it('restarts a service that dies, waits for its readiness URL and logs both', async () => {
    const h = await supervise();
    await h.supervisor.start();
    const first = h.supervisor.current;
    await first.kill();

    const exited = await lineMatching(h.lines, /exited/);
    expect(exited, 'why, how long it ran, when and which attempt').toMatch(
      /^flaky exited \(SIGKILL\) after \d+(\.\d)? s; restarting in 0\.1 s \(attempt 1\); see /,
    );
    expect(exited.endsWith(`see ${h.logFile}`), 'names the log file').toBe(true);
    await lineMatching(h.lines, /^flaky restarted and ready \(attempt 1\)$/);
    expect(h.launched.length, 'one restart').toBe(2);
    expect(h.supervisor.current.child.pid, 'a new process').not.toBe(first.child.pid);
    expect(await isReady(h.readyUrl), 'the restarted service answers').toBe(true);
  }, 30_000);

  it('backs off more and more while the service keeps dying, then recovers', async () => {
    const h = await supervise();
    await h.supervisor.start();
    fs.writeFileSync(h.crashFile, '');
    await h.supervisor.current.kill();
    await lineMatching(h.lines, /\(attempt 4\)/);
    fs.rmSync(h.crashFile);
    await lineMatching(h.lines, /^flaky restarted and ready \(attempt [4-9]\)$/);

    const exits = h.lines.filter((l) => l.includes(' exited '));
    expect(exits[0], 'the kill').toMatch(/exited \(SIGKILL\).*restarting in 0\.1 s \(attempt 1\)/);
    expect(exits[1], 'a crash on restart').toMatch(/exited \(code 3\).*restarting in 0\.2 s \(attempt 2\)/);
    expect(exits[2]).toMatch(/exited \(code 3\).*restarting in 0\.4 s \(attempt 3\)/);
    expect(exits[3], 'capped at maxMs').toMatch(/exited \(code 3\).*restarting in 0\.4 s \(attempt 4\)/);
    expect(await isReady(h.readyUrl)).toBe(true);
  }, 60_000);

  it('resets the backoff once the service has stayed up resetAfterMs', async () => {
    const h = await supervise({ resetAfterMs: 1_500 });
    await h.supervisor.start();
    await h.supervisor.current.kill();
    await lineMatching(h.lines, /restarted and ready \(attempt 1\)/);
    await h.supervisor.current.kill();
    await lineMatching(h.lines, /restarted and ready \(attempt 2\)/);
    expect(h.lines.filter((l) => l.includes(' exited ')).at(-1), 'killed quickly: backoff grows').toMatch(
      /restarting in 0\.2 s \(attempt 2\)/,
    );
    await sleep(1_600);
    const from = h.lines.length;
    await h.supervisor.current.kill();
    const exited = await lineMatching(h.lines, / exited /, from);
    expect(exited, 'up longer than resetAfterMs: back to the first delay').toMatch(
      /after [1-9][\d.]* s; restarting in 0\.1 s \(attempt 1\)/,
    );
  }, 30_000);

  it('stop() during the backoff wait cancels the restart', async () => {
    const h = await supervise({ backoff: { initialMs: 5_000, maxMs: 5_000 } });
    await h.supervisor.start();
    await h.supervisor.current.kill();
    await lineMatching(h.lines, /restarting in 5 s \(attempt 1\)/);

    const started = Date.now();
    await h.supervisor.stop();
    expect(Date.now() - started, 'stop does not wait for the backoff').toBeLessThan(1_000);
    await sleep(300);
    expect(h.launched.length, 'never restarted').toBe(1);
    expect(h.lines.length, 'nothing logged after the exit').toBe(1);
  }, 30_000);

  it('a clean stop is not a death: nothing is restarted', async () => {
    const h = await supervise();
    await h.supervisor.start();
    await h.supervisor.stop();
    await sleep(300);
    expect(h.launched.length).toBe(1);
    expect(h.lines).toEqual([]);
    expect(h.launched[0]!.child.exitCode, 'SIGTERM handled: exit 0').toBe(0);
  }, 30_000);

  it('a first start that fails is reported, not retried', async () => {
    const h = await supervise();
    fs.writeFileSync(h.crashFile, '');
    await expect(h.supervisor.start()).rejects.toThrow(/exited \(code 3\); see /);
    await sleep(300);
    expect(h.launched.length).toBe(1);
    expect(h.lines).toEqual([]);
  }, 30_000);
});
