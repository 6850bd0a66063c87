import type { ParseArgsOptionsConfig } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../cli/src/cli-error.ts';
import { parseCommandArgs, parseCommandLine } from '../../../cli/src/parse-command-args.ts';

const options = {
  project: { type: 'string' },
  role: { type: 'string' },
  force: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

function usageMessage(args: string[]): string {
  try {
    parseCommandArgs('keys create', args, options);
  } catch (err) {
    expect(err, 'a CliError').toBeInstanceOf(CliError);
    expect((err as CliError).exitCode, 'usage errors exit 2').toBe(EXIT.usage);
    return (err as Error).message;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

describe('command argument parsing', () => {
  it('returns the values of known options, inline or separate', () => {
    expect(parseCommandArgs('keys create', ['--project', 'shop', '--role=read', '--force'], options)).toEqual(
      {
        project: 'shop',
        role: 'read',
        force: true,
      },
    );
  });

  it('names an unknown option, the command and the likely intended one', () => {
    expect(usageMessage(['--rol', 'write'])).toBe(
      'unknown option --rol for "keys create" (did you mean --role?); see liftstream keys create --help',
    );
    expect(usageMessage(['-x'])).toBe(
      'unknown option -x for "keys create"; see liftstream keys create --help',
    );
  });

  it('says which option needs a value, also when the next word is another option', () => {
    expect(usageMessage(['--project'])).toMatch(/^option --project needs a value for "keys create"/);
    expect(usageMessage(['--project', '--role', 'read'])).toMatch(/^option --project needs a value/);
  });

  it('refuses a value for a flag and a stray argument', () => {
    expect(usageMessage(['--force=yes'])).toMatch(/^option --force takes no value/);
    expect(usageMessage(['--project', 'shop', 'extra'])).toMatch(
      /^unexpected argument "extra" for "keys create"/,
    );
  });

  it('accepts a value starting with "-" when written inline', () => {
    expect(parseCommandArgs('keys create', ['--project=-x'], options).project).toBe('-x');
  });
});

describe('command lines with arguments', () => {
  const resultsOptions = { metric: { type: 'string' }, json: { type: 'boolean' } } as const;

  it('returns the named arguments in order, with the options around them', () => {
    expect(
      parseCommandLine('results', ['--json', 'checkout', '--metric', 'purchase'], resultsOptions, [
        'EXPERIMENT',
      ]),
    ).toEqual({ values: { json: true, metric: 'purchase' }, positionals: ['checkout'] });
    expect(parseCommandLine('results', ['--', '--odd'], resultsOptions, ['EXPERIMENT']).positionals).toEqual([
      '--odd',
    ]);
  });

  it('names a missing argument and refuses one too many', () => {
    const message = (args: string[]) => {
      try {
        parseCommandLine('results', args, resultsOptions, ['EXPERIMENT']);
      } catch (err) {
        expect((err as CliError).exitCode).toBe(EXIT.usage);
        return (err as Error).message;
      }
      throw new Error('expected a usage error');
    };
    expect(message(['--json'])).toBe('EXPERIMENT is required for "results"; see liftstream results --help');
    expect(message(['a', 'b'])).toBe('unexpected argument "b" for "results"; see liftstream results --help');
    expect(message(['a', '--metric'])).toMatch(/^option --metric needs a value for "results"/);
  });
});
