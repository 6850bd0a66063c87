import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { usageError, type CliError } from './cli-error.ts';
import { closestName } from './closest-name.ts';

/**
 * The options of `command`, parsed strictly (no positionals, no unknown options). Node's own errors
 * are long and mention positional-argument workarounds; this turns each into one line naming the
 * option and the command, found by re-reading the arguments leniently.
 */
export function parseCommandArgs<O extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: O,
) {
  return parseCommandLine(command, args, options, []).values;
}

/**
 * The options of `command` and exactly one argument for each of `positionals` (their names as the
 * help shows them, "EXPERIMENT"), in order. A name that starts with "-" goes after `--`.
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: O,
  positionals: readonly string[],
) {
  const allowPositionals = positionals.length > 0;
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    throw describeParseError(command, args, options, allowPositionals, err);
  }
  const extra = parsed.positionals[positionals.length];
  if (extra !== undefined) throw usageError(`unexpected argument "${extra}" for "${command}"`, command);
  const missing = positionals[parsed.positionals.length];
  if (missing !== undefined) throw usageError(`${missing} is required for "${command}"`, command);
  return { values: parsed.values, positionals: parsed.positionals };
}

function describeParseError(
  command: string,
  args: string[],
  options: ParseArgsOptionsConfig,
  allowPositionals: boolean,
  err: unknown,
): CliError {
  const forCommand = `for "${command}"`;
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional' && !allowPositionals)
      return usageError(`unexpected argument "${token.value}" ${forCommand}`, command);
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) {
      const guess = closestName(token.name, Object.keys(options));
      const hint = guess ? ` (did you mean --${guess}?)` : '';
      return usageError(`unknown option ${token.rawName} ${forCommand}${hint}`, command);
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      return usageError(`option --${token.name} takes no value ${forCommand}`, command);
    }
    // Node refuses `--project --role`: the value looks like the next option. A value that really starts
    // with "-" can be given as --out=-file.json.
    if (
      option.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      return usageError(`option --${token.name} needs a value ${forCommand}`, command);
    }
  }
  // Not one of the cases above (a future Node check): its first line still says what is wrong.
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  return usageError(`${message} ${forCommand}`, command);
}
