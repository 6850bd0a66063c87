import { describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/ports.ts';
import { runCliInProcess } from '../../helpers/cli-run.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const run = (argv: string[], env: Record<string, string> = {}) =>
  runCliInProcess(['tail', ...argv], tempDir(), undefined, env);

describe('liftstream tail, before it reaches Kafka', () => {
  it('refuses a bad --type (suggesting the near one) or --project, exit 2', async () => {
    expect(await run(['--type', 'tracks'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'liftstream: --type must be exposure, track or alias, got "tracks" (did you mean track?); see liftstream tail --help\n',
    });
    const project = await run(['--project', 'Shop']);
    expect(project.code).toBe(2);
    expect(project.stderr).toMatch(/^liftstream: --project "Shop" is not a valid project id/);
  });

  it("refuses a malformed KAFKA_BROKERS in the services' words, exit 1", async () => {
    const result = await run([], { KAFKA_BROKERS: 'kafka' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^liftstream: Invalid configuration: KAFKA_BROKERS\S*: expected host:port\n$/,
    );
  });

  it('a broker that cannot be reached is exit 3, naming it and KAFKA_BROKERS', async () => {
    const brokers = `127.0.0.1:${await freePort()}`;
    const result = await run([], { KAFKA_BROKERS: brokers });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `^liftstream: cannot read from Kafka at ${brokers.replace('.', '\\.')} \\(KAFKA_BROKERS\\): .+\\n$`,
      ),
    );
    expect(result.stdout).toBe('');
  });
});
