/**
 * Error messages of the project catalog's zod schemas: each states the rule and what was found instead,
 * so a start-up failure reads as one sentence naming the field.
 */

/**
 * A zod error callback stating `rule` and what was found instead. `echo: false` for fields where a
 * mistake may be a secret (a key pasted in clear where its digest belongs): only its length is shown.
 */
export function rule(text: string, opts: { echo?: boolean } = {}): (issue: { input?: unknown }) => string {
  return ({ input }) => {
    if (input === undefined) return `missing; must be ${text}`;
    if (typeof input === 'string' && opts.echo === false)
      return `must be ${text}, got ${input.length} characters`;
    return `must be ${text}, got ${describeValue(input)}`;
  };
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
