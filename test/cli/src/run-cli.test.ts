import { describe, expect, it } from 'vitest';
import { commands, topHelp } from '../../../cli/src/run-cli.ts';
import { runCliInProcess } from '../../helpers/cli-run.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

const run = (...argv: string[]) => runCliInProcess(argv, tempDir());

describe('liftstream command dispatch', () => {
  it('prints the command list for --help and -h, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      expect(await run(flag)).toEqual({ code: 0, stdout: `${topHelp}\n`, stderr: '' });
    }
    for (const command of commands) expect(topHelp).toContain(command.name);
  });

  it("prints a command's help for --help anywhere on its line, exit 0", async () => {
    for (const command of commands) {
      expect(await run(...command.name.split(' '), '--help')).toEqual({
        code: 0,
        stdout: `${command.help}\n`,
        stderr: '',
      });
      expect((await run(...command.name.split(' '), '--bogus', '-h')).stdout).toBe(`${command.help}\n`);
    }
  });

  it('refuses an unknown command in one line, exit 2, suggesting the near one', async () => {
    expect(await run('key', 'create')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'liftstream: unknown command "key" (did you mean "keys"?); see liftstream --help\n',
    });
    expect((await run('keys', 'delete')).stderr).toBe(
      'liftstream: unknown command "keys delete" (commands: keys create); see liftstream --help\n',
    );
    expect((await run('result', 'checkout')).stderr, 'one-word commands are suggested too').toBe(
      'liftstream: unknown command "result" (did you mean "results"?); see liftstream --help\n',
    );
  });

  it('refuses a missing command, a group without its command and an unknown top-level option, exit 2', async () => {
    for (const argv of [[], ['keys'], ['--verbose']]) {
      const result = await run(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr.trimEnd().split('\n'), 'one line').toHaveLength(1);
      expect(result.stderr).toMatch(/^liftstream: .*; see liftstream --help\n$/);
    }
  });
});
