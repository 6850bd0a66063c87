import { afterEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../cli/src/cli-error.ts';
import { getFromStats, refusal, statsApiFrom, type StatsApi } from '../../../cli/src/stats-api.ts';
import { freePort } from '../../../infra/local/ports.ts';
import { apiError, startFakeStatsApi, type FakeStatsApi } from '../../helpers/fake-stats-api.ts';

const env = { LIFTSTREAM_READ_KEY: 'lsr_test' };

function thrown(f: () => unknown): CliError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

describe('where the read commands go and with which key', () => {
  it('--url, else LIFTSTREAM_URL, else the local stats port; 30 s per answer unless --timeout', () => {
    expect(statsApiFrom({}, env, 'results')).toEqual({
      url: 'http://127.0.0.1:8090',
      key: 'lsr_test',
      timeoutMs: 30_000,
    });
    expect(statsApiFrom({}, { ...env, LIFTSTREAM_URL: 'https://stats.example/' }, 'results').url).toBe(
      'https://stats.example',
    );
    const both = statsApiFrom(
      { url: 'http://10.0.0.2:9000/proxy/stats/', timeout: '2.5' },
      { ...env, LIFTSTREAM_URL: 'https://stats.example' },
      'results',
    );
    expect(both, 'the option wins; a path prefix is kept').toEqual({
      url: 'http://10.0.0.2:9000/proxy/stats',
      key: 'lsr_test',
      timeoutMs: 2_500,
    });
  });

  it('the key only from LIFTSTREAM_READ_KEY: unset is a configuration failure (exit 1) saying where to get one', () => {
    const error = thrown(() => statsApiFrom({}, {}, 'experiments'));
    expect(error.exitCode).toBe(EXIT.failure);
    expect(error.message).toMatch(/^LIFTSTREAM_READ_KEY is not set; export a read key of the project \(lsr_/);
  });

  it('a bad --url or --timeout is a usage error (exit 2), a bad LIFTSTREAM_URL a configuration failure (exit 1)', () => {
    for (const values of [
      { url: 'ftp://x' },
      { url: 'stats:8090' },
      { url: 'http://u:p@h' },
      { timeout: '0' },
      { timeout: 'soon' },
    ]) {
      expect(thrown(() => statsApiFrom(values, env, 'results')).exitCode, JSON.stringify(values)).toBe(
        EXIT.usage,
      );
    }
    const error = thrown(() => statsApiFrom({}, { ...env, LIFTSTREAM_URL: 'localhost:8090' }, 'results'));
    expect(error.exitCode).toBe(EXIT.failure);
    expect(error.message).toMatch(/^LIFTSTREAM_URL must be an http\(s\) URL/);
  });
});

describe('asking the stats API', () => {
  let fake: FakeStatsApi | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const apiAt = (url: string, timeoutMs = 5_000): StatsApi => ({ url, key: 'lsr_test', timeoutMs });

  it('sends the key as a bearer and the query, and returns the JSON with its text as sent', async () => {
    fake = await startFakeStatsApi({ '/v1/experiments/a%20b/results': { body: { ok: 1 } } });
    const answer = await getFromStats(apiAt(fake.url), '/v1/experiments/a%20b/results', {
      metric: 'purchase',
      control: undefined,
    });
    expect(answer).toEqual({ ok: true, status: 200, text: '{"ok":1}', body: { ok: 1 } });
    expect(fake.requests).toEqual([
      {
        path: '/v1/experiments/a%20b/results',
        query: { metric: 'purchase' },
        authorization: 'Bearer lsr_test',
      },
    ]);
  });

  it("a refusal is a value: the API's code and message, turned into one line and exit 1", async () => {
    fake = await startFakeStatsApi({
      '/v1/experiments': apiError(401, 'unauthorized', 'unknown API key'),
    });
    const answer = await getFromStats(apiAt(fake.url), '/v1/experiments');
    expect(answer).toMatchObject({
      ok: false,
      status: 401,
      code: 'unauthorized',
      message: 'unknown API key',
    });
    if (answer.ok) return;
    const error = refusal(apiAt(fake.url), answer);
    expect(error.exitCode).toBe(EXIT.failure);
    expect(error.message).toBe(
      'the stats API refused the key: unknown API key (401 unauthorized); set LIFTSTREAM_READ_KEY to a read key of the project',
    );
  });

  it('maps each status to its exit code and advice', () => {
    const api = { url: 'http://stats' };
    const answer = (status: number, code: string | undefined, retryAfter: string | null = null) =>
      ({ ok: false, status, code, message: 'm', retryAfter }) as const;
    expect(refusal(api, answer(403, 'forbidden')).message).toMatch(/must be a read key \(lsr_\.\.\.\)$/);
    expect(refusal(api, answer(404, 'unknown_experiment'), 'did you mean "x"?').message).toBe(
      'm (404 unknown_experiment); did you mean "x"?',
    );
    expect(refusal(api, answer(400, 'invalid_parameter')).exitCode).toBe(EXIT.failure);
    const busy = refusal(api, answer(503, 'data_inconsistent', '1'));
    expect([busy.exitCode, busy.message]).toEqual([
      EXIT.unavailable,
      'm (503 data_inconsistent); try again in 1 s',
    ]);
    expect(refusal(api, answer(502, undefined)).exitCode, "a proxy's 502").toBe(EXIT.unavailable);
    expect(refusal(api, answer(404, undefined)).message).toMatch(/not the stats API's error; check --url/);
  });

  it('an unreachable server is exit 3, naming the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const error = await getFromStats(apiAt(url), '/v1/experiments').then(
      () => undefined,
      (err: unknown) => err as CliError,
    );
    expect(error?.exitCode).toBe(EXIT.unavailable);
    expect(error?.message).toBe(
      `cannot reach the stats API at ${url} (ECONNREFUSED); is the stats service running there? Set --url or LIFTSTREAM_URL`,
    );
  });

  it('no answer in time is exit 3, saying how long it waited', async () => {
    fake = await startFakeStatsApi({}, { hang: ['/v1/experiments'] });
    const error = await getFromStats(apiAt(fake.url, 300), '/v1/experiments').then(
      () => undefined,
      (err: unknown) => err as CliError,
    );
    expect(error?.exitCode).toBe(EXIT.unavailable);
    expect(error?.message).toMatch(
      /did not answer within 0\.3 s; try again, or give it longer with --timeout$/,
    );
  });

  it('a success that is not JSON means --url is some other server: exit 1', async () => {
    fake = await startFakeStatsApi({ '/v1/experiments': { body: '<html>hello</html>' } });
    const error = await getFromStats(apiAt(fake.url), '/v1/experiments').then(
      () => undefined,
      (err: unknown) => err as CliError,
    );
    expect(error?.exitCode).toBe(EXIT.failure);
    expect(error?.message).toMatch(/answered 200 with a body that is not JSON; is it the stats API\?/);
  });
});
